//! API tokens: the secret's format, its hash, and the scopes a token can hold.
//!
//! A secret is `sat_` (so secret scanners can match it), 22 base62 characters of randomness
//! (131 bits), and 6 base62 characters of CRC-32 over the rest, so a mistyped token is told
//! apart from an unknown or revoked one without a database read (GitHub's tokens do the same).
//! Only the SHA-256 of a secret is stored; the secret is shown once, when it is made.

use std::fmt;

use sha2::{Digest, Sha256};

use super::{
    rules::{Code, Violation},
    student::StudentName,
};

/// What every secret starts with.
pub const TOKEN_PREFIX: &str = "sat_";
const RANDOM_CHARS: usize = 22;
const CHECKSUM_CHARS: usize = 6;
/// The whole secret's length.
pub const TOKEN_CHARS: usize = TOKEN_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;
/// How much of a secret is kept to recognise it in lists (`sat_` and 4 more characters).
pub const DISPLAY_PREFIX_CHARS: usize = TOKEN_PREFIX.len() + 4;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token's secret, well-formed (prefix, alphabet, length and checksum all right). Not
/// `Debug`-printable: a secret must never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSecret({}…)", self.display_prefix())
    }
}

/// Why a string is not a token secret at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not `sat_` + 28 base62 characters.
    Shape,
    /// The right shape, but the checksum does not match: a typo, or a made-up token.
    Checksum,
}

impl TokenSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut random = [0u8; RANDOM_CHARS];
        getrandom::fill(&mut random)?;
        // 62 does not divide 256; the bias of `% 62` (a few percent on 6 of 62 characters)
        // costs well under a bit of the 131, which is fine for a bearer secret.
        let body: String = random
            .iter()
            .map(|b| char::from(BASE62[usize::from(*b) % 62]))
            .collect();
        let unchecked = format!("{TOKEN_PREFIX}{body}");
        let checksum = base62_fixed(crc32(unchecked.as_bytes()), CHECKSUM_CHARS);
        Ok(Self(format!("{unchecked}{checksum}")))
    }

    /// `raw` as a secret, if it is one in form (whether it is known is the database's question).
    pub fn parse(raw: &str) -> Result<Self, Malformed> {
        let well_shaped = raw.len() == TOKEN_CHARS
            && raw.starts_with(TOKEN_PREFIX)
            && raw[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric());
        if !well_shaped {
            return Err(Malformed::Shape);
        }
        let (unchecked, checksum) = raw.split_at(TOKEN_CHARS - CHECKSUM_CHARS);
        if base62_fixed(crc32(unchecked.as_bytes()), CHECKSUM_CHARS) != checksum {
            return Err(Malformed::Checksum);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret itself: to show once, to whoever created it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored and looked up: SHA-256 of the secret.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The first characters, to recognise the token in lists (`sat_Ab3x`).
    pub fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_PREFIX_CHARS]
    }
}

/// `value` in base62, most significant digit first, padded with `0` to `width` characters.
fn base62_fixed(mut value: u32, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// CRC-32 (IEEE 802.3, as zlib computes it).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// What a token is for ("deploy bot", "Ada's laptop"): the same rule as a student's name, so
/// the `api_tokens` table checks it with the same CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(StudentName);

impl TokenName {
    pub fn parse(raw: &str) -> Result<Self, Violation> {
        StudentName::parse(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// What a token may do. Each operation declares the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    StudentsRead,
    StudentsWrite,
    TokensAdmin,
    AccountsAdmin,
    MetricsRead,
    WebhooksAdmin,
}

/// Every scope, in the order the docs list them: the table's CHECK `api_tokens_scopes_known`.
pub const SCOPES: [Scope; 6] = [
    Scope::StudentsRead,
    Scope::StudentsWrite,
    Scope::TokensAdmin,
    Scope::AccountsAdmin,
    Scope::MetricsRead,
    Scope::WebhooksAdmin,
];

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::StudentsRead => "students:read",
            Scope::StudentsWrite => "students:write",
            Scope::TokensAdmin => "tokens:admin",
            Scope::AccountsAdmin => "accounts:admin",
            Scope::MetricsRead => "metrics:read",
            Scope::WebhooksAdmin => "webhooks:admin",
        }
    }

    /// What the scope allows, for the docs.
    pub fn description(self) -> &'static str {
        match self {
            Scope::StudentsRead => "read students: get, list, export",
            Scope::StudentsWrite => "create, replace, update and delete students",
            Scope::TokensAdmin => "create, list and revoke API tokens",
            Scope::AccountsAdmin => {
                "create, list, change and disable people's accounts; reset their passwords"
            }
            Scope::MetricsRead => "read the Prometheus metrics",
            Scope::WebhooksAdmin => {
                "create, change and delete webhook endpoints; read their delivery logs, replay \
                 and test them"
            }
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        SCOPES
            .into_iter()
            .find(|scope| scope.as_str() == raw)
            .ok_or_else(|| {
                let known: Vec<&str> = SCOPES.iter().map(|s| s.as_str()).collect();
                Violation::new(
                    Code::InvalidEnum,
                    format!("must be one of {}", known.join(", ")),
                )
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed step is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_parses_and_a_typo_is_a_checksum_error() {
        let secret = TokenSecret::generate().unwrap();
        let text = secret.expose().to_owned();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert!(text.starts_with("sat_"));
        assert_eq!(TokenSecret::parse(&text), Ok(secret.clone()));
        // One character changed in the random part.
        let mut typo = text.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(TokenSecret::parse(&typo), Err(Malformed::Checksum));
        for shape in ["", "sat_", "sk_live_abc", &text[1..], &format!("{text}x")] {
            assert_eq!(TokenSecret::parse(shape), Err(Malformed::Shape), "{shape}");
        }
        assert_ne!(TokenSecret::generate().unwrap(), secret, "random");
    }

    #[test]
    fn secrets_are_hashed_and_never_printed() {
        let secret = TokenSecret::generate().unwrap();
        assert_eq!(
            secret.hash(),
            TokenSecret::parse(secret.expose()).unwrap().hash()
        );
        let printed = format!("{secret:?}");
        assert!(!printed.contains(secret.expose()), "{printed}");
        assert!(printed.contains(secret.display_prefix()));
    }

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(base62_fixed(0, 6), "000000");
        assert_eq!(base62_fixed(61, 2), "0z");
    }

    #[test]
    fn scopes_round_trip() {
        for scope in SCOPES {
            assert_eq!(Scope::parse(scope.as_str()), Ok(scope));
        }
        assert!(Scope::parse("students:delete").is_err());
    }
}
