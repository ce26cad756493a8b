//! People's accounts: a username, a display name, a role, and a password that is only ever
//! kept as an argon2id hash.
//!
//! Password rules follow NIST SP 800-63B §3.1.1.2: 12 to 256 characters of any Unicode,
//! NFKC-normalised before hashing (so the same password typed on two keyboards is one), not one
//! of the 10,000 most common passwords, no control characters, and no composition rules.

use std::{fmt, sync::LazyLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash as ParsedHash, PasswordHasher, PasswordVerifier,
    Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::{
    rules::{Code, Violation},
    token::Scope,
};

/// A sign-in name: 3–64 characters, lower-case ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter or digit. Sent in any case and stored lower-cased, so `Ada` and
/// `ada` are one account; ASCII only, so no two usernames look alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// The table's CHECK `accounts_username_format`: what is stored.
    pub const PATTERN: &str = "^[a-z0-9][a-z0-9._-]{2,63}$";
    /// The published pattern: what may be sent, in any case.
    pub const SENT_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$";

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        static FORMAT: LazyLock<Option<Regex>> =
            LazyLock::new(|| Regex::new(Username::PATTERN).ok());
        // Spaces around it, as people type it; any other whitespace is refused by the pattern.
        let name = raw.trim_matches(' ').to_ascii_lowercase();
        if FORMAT.as_ref().is_some_and(|re| re.is_match(&name)) {
            Ok(Self(name))
        } else {
            Err(Violation::new(
                Code::Pattern,
                "must be 3 to 64 characters: letters a-z, digits, '.', '_' or '-', starting \
                 with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may do: each role is a set of the API's scopes, each holding the one below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads students.
    Viewer,
    /// Reads and writes students.
    Editor,
    /// Everything: students, tokens, accounts, metrics.
    Admin,
}

/// Every role, weakest first: the published enum and the table's CHECK `accounts_role_valid`.
pub const ROLES: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        ROLES
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| {
                Violation::new(Code::InvalidEnum, "must be one of viewer, editor, admin")
            })
    }

    /// The scopes a sign-in of this role holds.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Role::Viewer => &[Scope::StudentsRead],
            Role::Editor => &[Scope::StudentsRead, Scope::StudentsWrite],
            Role::Admin => &[
                Scope::StudentsRead,
                Scope::StudentsWrite,
                Scope::TokensAdmin,
                Scope::AccountsAdmin,
                Scope::MetricsRead,
                Scope::WebhooksAdmin,
            ],
        }
    }
}

/// A password that obeys the rules, NFKC-normalised. Never `Debug`- or `Display`-printed: a
/// password must not reach a log.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// The 10,000 most common passwords (zxcvbn 4.5.0's list, MIT licence), lower-case.
const COMMON_PASSWORDS: &str = include_str!("data/common-passwords.txt");

impl Password {
    /// Characters, after NFKC normalisation.
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;
    /// No control characters (Unicode's `Cc`, what `char::is_control` finds), as published.
    pub const PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        // Nothing a keyboard types; a NUL would also end the password in some clients' C.
        if raw.chars().any(char::is_control) {
            return Err(Violation::new(
                Code::ControlCharacter,
                "must not contain control characters",
            ));
        }
        let password: String = raw.nfkc().collect();
        let chars = password.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Violation::new(
                Code::TooShort,
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(Violation::new(
                Code::TooLong,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if is_common(&password) {
            return Err(Violation::new(
                Code::CommonPassword,
                "is one of the 10,000 most common passwords; choose another",
            ));
        }
        Ok(Self(password))
    }

    /// A password nobody chose, for the first-run admin account: 24 random characters of
    /// `[0-9A-Za-z]`, about 142 bits.
    pub fn generate() -> Result<Self, getrandom::Error> {
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut random = [0u8; 24];
        getrandom::fill(&mut random)?;
        // The small bias of `% 62` costs well under a bit of the 142.
        let password = random
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % 62]))
            .collect();
        Ok(Self(password))
    }

    /// The password itself, for the one place it is written: the first-run file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its argon2id hash, with a fresh salt, in the PHC string format.
    pub fn hash(&self) -> Result<PasswordHash, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = hasher().hash_password(self.0.as_bytes(), &salt)?;
        Ok(PasswordHash(hash.to_string()))
    }
}

fn is_common(password: &str) -> bool {
    static COMMON: LazyLock<std::collections::HashSet<&'static str>> =
        LazyLock::new(|| COMMON_PASSWORDS.lines().collect());
    COMMON.contains(password.to_lowercase().as_str())
}

/// argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): about 30 ms a
/// verification on one core, which is the point.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    // argon2's defaults are these same values; a test holds the stored hash to the constants.
    let params =
        Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A stored argon2id hash (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). The table's CHECK
/// `accounts_password_hash_argon2id` allows nothing else.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

impl PasswordHash {
    /// The prefix every stored hash has.
    pub const PREFIX: &str = "$argon2id$";

    /// A hash read from the table.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` (as typed: it is normalised here) is the password. A malformed hash
    /// verifies nothing.
    pub fn verify(&self, candidate: &str) -> bool {
        let candidate: String = candidate.nfkc().collect();
        ParsedHash::new(&self.0).is_ok_and(|parsed| {
            hasher()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed step is a failed test
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_ascii_of_3_to_64() {
        assert_eq!(
            Username::parse(" Ada.Lovelace ").unwrap().as_str(),
            "ada.lovelace"
        );
        assert!(Username::parse("a_b-c.9").is_ok());
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        for bad in [
            "ab",
            "",
            "-ada",
            ".ada",
            "ada lovelace",
            "adà",
            "ada\u{0}",
            "ada\n",
            "\tada",
            "аda",
        ] {
            assert_eq!(
                Username::parse(bad).map_err(|v| v.code),
                Err(Code::Pattern),
                "{bad:?}"
            );
        }
        assert!(Username::parse(&"a".repeat(65)).is_err());
        // What may be sent is what parses (untrimmed), in any case.
        let sent = Regex::new(Username::SENT_PATTERN).unwrap();
        for raw in [
            "Ada.Lovelace",
            "ab",
            "-ada",
            "adà",
            "ADA_9",
            &"A".repeat(65),
        ] {
            assert_eq!(sent.is_match(raw), Username::parse(raw).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn roles_hold_the_scopes_below_them() {
        for pair in ROLES.windows(2) {
            assert!(
                pair[0]
                    .scopes()
                    .iter()
                    .all(|s| pair[1].scopes().contains(s))
            );
        }
        assert_eq!(Role::parse("editor"), Ok(Role::Editor));
        assert!(Role::parse("Editor").is_err());
    }

    #[test]
    fn passwords_follow_sp_800_63b() {
        assert_eq!(
            Password::parse("short").map(|_| ()).map_err(|v| v.code),
            Err(Code::TooShort)
        );
        // Counted in characters after NFKC: 12 emoji are long enough, and no composition rule.
        assert!(Password::parse(&"🦀".repeat(12)).is_ok());
        assert!(Password::parse("correct horse battery staple").is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(257))
                .map(|_| ())
                .map_err(|v| v.code),
            Err(Code::TooLong)
        );
        assert_eq!(
            Password::parse("long enough\0password")
                .map(|_| ())
                .map_err(|v| v.code),
            Err(Code::ControlCharacter)
        );
        // The published pattern refuses exactly what `parse` refuses for control characters.
        let pattern = Regex::new(Password::PATTERN).unwrap();
        for c in [
            '\0', '\n', '\u{7f}', '\u{9f}', 'a', '\u{a0}', '\u{200d}', '🦀',
        ] {
            let raw = format!("long enough {c} password");
            assert_eq!(
                pattern.is_match(&raw),
                Password::parse(&raw).is_ok(),
                "{c:?}"
            );
        }
        // In the common list, in any case.
        assert_eq!(
            Password::parse("QWERTY123456")
                .map(|_| ())
                .map_err(|v| v.code),
            Err(Code::CommonPassword)
        );
    }

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_the_normalised_password() {
        // "ﬁ" (U+FB01) is "fi" under NFKC: either spelling is the same password.
        let password = Password::parse("a ﬁne long password").unwrap();
        let hash = password.hash().unwrap();
        assert!(hash.as_str().starts_with(PasswordHash::PREFIX));
        assert!(hash.as_str().contains(&format!(
            "m={ARGON2_MEMORY_KIB},t={ARGON2_PASSES},p={ARGON2_LANES}"
        )));
        assert!(hash.verify("a ﬁne long password"));
        assert!(hash.verify("a fine long password"));
        assert!(!hash.verify("a fine long passworD"));
        assert_ne!(password.hash().unwrap(), hash, "a fresh salt each time");
        assert!(!PasswordHash::from_stored("not a hash".into()).verify("x"));
        assert_eq!(
            format!("{password:?} {hash:?}"),
            "Password(…) PasswordHash(…)"
        );
    }
}
