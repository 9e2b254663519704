//! Lowercase hexadecimal text of bytes: token hashes in the config
//! (`sha256:<hex>`), webhook signatures, audit event ids and request ids.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex, two digits a byte.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_lowercase_digits_a_byte() {
        let bytes = [0x00, 0x0f, 0x10, 0xab, 0xff];
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(encode(&bytes), expected);
        assert_eq!(encode(&[]), "");
    }
}
