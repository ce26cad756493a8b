// The Express peer: the same three endpoints, node-postgres underneath, one worker per core
// (cluster), each with a pool of 10. Run by bench/run.
const cluster = require('node:cluster');
const os = require('node:os');

if (cluster.isPrimary) {
  for (let i = 0; i < Math.min(os.cpus().length, 2); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const express = require('express');
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const COLUMNS = 'id, name, grade, email, created_at, updated_at';
  const GRADES = new Set(['A+', 'A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'C-', 'D', 'F']);
  const app = express();
  app.use(express.json({ limit: '64kb' }));

  app.get('/api/students/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) return res.status(422).json({ detail: 'id' });
    try {
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM students WHERE id = $1`, [id]);
      if (rows.length === 0) return res.status(404).json({ detail: 'not found' });
      res.json(rows[0]);
    } catch {
      res.status(503).json({ detail: 'database' });
    }
  });

  app.get('/api/students', async (req, res) => {
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return res.status(422).json({ detail: 'limit' });
    let after = null;
    if (req.query.cursor !== undefined) {
      const raw = Buffer.from(String(req.query.cursor), 'base64url').toString();
      after = raw.startsWith('id:') ? Number(raw.slice(3)) : NaN;
      if (!Number.isSafeInteger(after)) return res.status(422).json({ detail: 'cursor' });
    }
    try {
      const { rows } = await pool.query(
        `SELECT ${COLUMNS} FROM students WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
        [after, limit + 1],
      );
      let next = null;
      if (rows.length > limit) {
        rows.length = limit;
        next = Buffer.from(`id:${rows[rows.length - 1].id}`).toString('base64url');
      }
      res.json({ items: rows, next_cursor: next });
    } catch {
      res.status(503).json({ detail: 'database' });
    }
  });

  app.post('/api/students', async (req, res) => {
    const { name, grade, email } = req.body ?? {};
    if (typeof name !== 'string' || name.trim().length < 1 || name.trim().length > 100 || !GRADES.has(grade)) {
      return res.status(422).json({ detail: 'invalid' });
    }
    if (email != null && (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254)) {
      return res.status(422).json({ detail: 'email' });
    }
    try {
      const { rows } = await pool.query(
        `INSERT INTO students (name, grade, email) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [name.trim(), grade, email == null ? null : email.trim().toLowerCase()],
      );
      res.status(201).json(rows[0]);
    } catch (err) {
      res.status(err.code === '23505' ? 409 : 503).json({ detail: 'database' });
    }
  });

  app.listen(Number(process.env.PORT), '127.0.0.1');
}
