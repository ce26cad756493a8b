"""The FastAPI peer: the same three endpoints, typed with pydantic, asyncpg underneath.
Run by bench/run as `uvicorn app:app --workers 2` (each worker has its own pool of 10)."""

import base64
import os
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal, Optional

import asyncpg
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

COLUMNS = "id, name, grade, email, created_at, updated_at"
Grade = Literal["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"]


class StudentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    grade: Grade
    email: Optional[str] = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class Student(BaseModel):
    id: int
    name: str
    grade: Grade
    email: Optional[str]
    created_at: datetime
    updated_at: datetime


class StudentPage(BaseModel):
    items: list[Student]
    next_cursor: Optional[str]


pool: asyncpg.Pool


@asynccontextmanager
async def lifespan(_app):
    global pool
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=10, max_size=10)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/api/students/{student_id}", response_model=Student)
async def get_student(student_id: int):
    row = await pool.fetchrow(f"SELECT {COLUMNS} FROM students WHERE id = $1", student_id)
    if row is None:
        raise HTTPException(404, "not found")
    return dict(row)


@app.get("/api/students", response_model=StudentPage)
async def list_students(limit: int = Query(20, ge=1, le=100), cursor: Optional[str] = None):
    after = None
    if cursor is not None:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            after = int(raw.removeprefix("id:")) if raw.startswith("id:") else None
        except ValueError:
            after = None
        if after is None:
            raise HTTPException(422, "cursor")
    rows = await pool.fetch(
        f"SELECT {COLUMNS} FROM students WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2",
        after,
        limit + 1,
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = base64.urlsafe_b64encode(f"id:{rows[-1]['id']}".encode()).decode().rstrip("=")
    return {"items": [dict(r) for r in rows], "next_cursor": next_cursor}


@app.post("/api/students", response_model=Student, status_code=201)
async def create_student(body: StudentCreate):
    email = body.email.strip().lower() if body.email else None
    try:
        row = await pool.fetchrow(
            f"INSERT INTO students (name, grade, email) VALUES ($1, $2, $3) RETURNING {COLUMNS}",
            body.name.strip(),
            body.grade,
            email,
        )
    except asyncpg.UniqueViolationError:
        raise HTTPException(409, "email taken")
    return dict(row)
