//! Roles on an account: `admin`, `user`, and custom names of a safe charset, carried in the
//! access token's `roles` claim.

/// May use the admin API.
pub const ADMIN: &str = "admin";
/// Every account made by signup has it.
pub const USER: &str = "user";

pub const MAX_ROLES: usize = 20;
pub const MAX_ROLE_LENGTH: usize = 40;

/// Checks one role name: 1–40 characters, lower-case ASCII letters, digits, `_`, `-`, `.` and
/// `:`, starting with a letter. Safe in a JWT claim, a log line and an authorizer's scope check.
pub fn check(role: &str) -> Result<(), String> {
    let valid_chars = role.chars().all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | ':')
    });
    if role.is_empty() || role.len() > MAX_ROLE_LENGTH {
        Err(format!(
            "\"{}\" must be 1 to {MAX_ROLE_LENGTH} characters",
            shown(role)
        ))
    } else if !role.starts_with(|c: char| c.is_ascii_lowercase()) || !valid_chars {
        Err(format!(
            "\"{}\" must start with a lower-case letter and hold only a-z, 0-9, _, -, . and :",
            shown(role)
        ))
    } else {
        Ok(())
    }
}

/// A role list as given: each name checked, duplicates dropped (first kept). Every problem is
/// reported, one message each.
pub fn parse(roles: &[String]) -> Result<Vec<String>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out: Vec<String> = Vec::new();
    if roles.len() > MAX_ROLES {
        problems.push(format!("must hold at most {MAX_ROLES} roles"));
    }
    for role in roles {
        match check(role) {
            Ok(()) if !out.contains(role) => out.push(role.clone()),
            Ok(()) => {}
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A name shown back in a message, cut short and without control characters.
fn shown(role: &str) -> String {
    role.chars()
        .filter(|c| !c.is_control())
        .take(MAX_ROLE_LENGTH)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn safe_names_pass_and_duplicates_go() {
        assert_eq!(
            parse(&roles(&[
                "admin",
                "user",
                "billing:read",
                "ops-team",
                "admin"
            ]))
            .unwrap(),
            roles(&["admin", "user", "billing:read", "ops-team"])
        );
    }

    #[test]
    fn every_bad_name_is_reported() {
        let problems = parse(&roles(&[
            "Admin",
            "",
            "a b",
            "9lives",
            "ok",
            &"x".repeat(41),
        ]))
        .unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn too_many_roles_are_refused() {
        let many: Vec<String> = (0..21).map(|i| format!("r{i}")).collect();
        assert!(parse(&many).is_err());
        assert!(parse(&many[..20]).is_ok());
    }
}
