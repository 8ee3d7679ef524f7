use crate::ValidationError;

/// Longest accepted identifier, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Checks an identifier: 1 to [`MAX_ID_LEN`] ASCII letters, digits or `.` `_`
/// `:` `-`. Identifiers appear in URLs and logs, so nothing else is allowed.
pub fn validate_id(field: &str, id: &str) -> Result<(), ValidationError> {
    if id.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(ValidationError::new(
            field,
            format!("is {} bytes long; the limit is {MAX_ID_LEN}", id.len()),
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(ValidationError::new(
            field,
            format!("contains {c:?}; only ASCII letters, digits and . _ : - are allowed"),
        ));
    }
    Ok(())
}

/// Checks a free-text field: at most `max` bytes, no NUL character.
pub(crate) fn check_text(field: &str, s: &str, max: usize) -> Result<(), ValidationError> {
    if s.len() > max {
        return Err(ValidationError::new(
            field,
            format!("is {} bytes; the limit is {max}", s.len()),
        ));
    }
    if s.contains('\0') {
        return Err(ValidationError::new(field, "contains a NUL character"));
    }
    Ok(())
}

/// Checks who a video or stream belongs to and where it is shown: its id,
/// its creator, its shop if any, and one region (`what` names it in the
/// message: "a video", "a stream").
pub(crate) fn check_content_parties(
    what: &str,
    id: &str,
    creator_id: &str,
    shop_id: Option<&str>,
    region: crate::Region,
) -> Result<(), ValidationError> {
    validate_id("id", id)?;
    validate_id("creator_id", creator_id)?;
    if let Some(s) = shop_id {
        validate_id("shop_id", s)?;
    }
    if region.is_all() {
        return Err(ValidationError::new(
            "region",
            format!("{what} is shown in one region; \"*\" is only for rights"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(validate_id("id", "l-1").is_ok());
        assert!(validate_id("id", "shop:9_a.b").is_ok());
        assert_eq!(validate_id("id", "").unwrap_err().field, "id");
        assert!(validate_id("id", "a b").is_err());
        assert!(validate_id("id", "ü").is_err());
        assert!(validate_id("id", &"x".repeat(129)).is_err());
    }
}
