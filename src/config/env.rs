//! `${NAME}` expansion for secrets in config values. The environment is
//! passed in as a lookup function, so loading stays a pure function of text.

/// Looks up an environment variable by name.
pub type EnvLookup<'a> = crate::mapping::EnvLookup<'a>;

pub use crate::mapping::expand_env as expand;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "API_KEY").then(|| "s3cret".to_string())
    }

    #[test]
    fn expands_and_escapes() {
        assert_eq!(
            expand("key ${API_KEY}!", &env).as_deref(),
            Ok("key s3cret!")
        );
        assert_eq!(expand("$$HOME and $5", &env).as_deref(), Ok("$HOME and $5"));
        assert_eq!(expand("plain", &env).as_deref(), Ok("plain"));
    }

    #[test]
    fn unset_variable_is_named() {
        let err = expand("${MISSING_ONE}", &env).unwrap_err();
        assert!(err.contains("MISSING_ONE"), "{err}");
        assert!(expand("${OPEN", &env).is_err());
        assert!(expand("${a-b}", &env).is_err());
    }
}
