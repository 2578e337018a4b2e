//! Time as the caller gives it, and JSON NumericDates read as whole seconds.

/// A point in time, in whole seconds since the Unix epoch (UTC).
///
/// The verifier never reads a clock: the caller passes `now`, which keeps the crate `no_std` and
/// makes every time check reproducible. A newtype, so that milliseconds cannot slip in unnoticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The time `secs` seconds after the Unix epoch.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        UnixTime(secs)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }
}

/// Reads a JSON number (already checked against the RFC 8259 grammar) as a NumericDate in whole
/// seconds: integer, fraction and exponent forms alike, the fraction dropped.
///
/// Returns `None` for a negative number or one whose whole part does not fit in a `u64`.
/// `-0` (and `-0.0`) is zero, not negative.
pub(crate) fn numeric_date(text: &[u8]) -> Option<u64> {
    // Nearly every date is plain digits (Go writes `exp` as an integer): up to 19 of them fit a
    // `u64` whatever they are, so they need none of the work below.
    if text.len() <= 19 && text.iter().all(u8::is_ascii_digit) {
        let digit = |byte: &u8| u64::from(byte.wrapping_sub(b'0'));
        return Some(text.iter().fold(0, |whole, byte| whole.wrapping_mul(10).wrapping_add(digit(byte))));
    }
    // The decimal point sits after the integer digits, moved by the exponent. Both are bounded
    // (the exponent at 2^40, far beyond any that matters), so the arithmetic cannot overflow.
    const BOUND: i64 = 1 << 40;
    let (mut int_digits, mut exponent, mut exponent_sign) = (0i64, 0i64, 1i64);
    let (mut in_fraction, mut in_exponent) = (false, false);
    for &byte in text {
        match byte {
            b'.' => in_fraction = true,
            b'e' | b'E' => in_exponent = true,
            b'-' if in_exponent => exponent_sign = -1,
            b'0'..=b'9' if in_exponent => {
                exponent = exponent.wrapping_mul(10).wrapping_add(i64::from(byte.wrapping_sub(b'0'))).min(BOUND);
            }
            b'0'..=b'9' if !in_fraction => int_digits = int_digits.wrapping_add(1).min(BOUND),
            _ => {}
        }
    }
    let mut point = int_digits.wrapping_add(exponent.wrapping_mul(exponent_sign));

    // The whole part is the first `point` digits of the mantissa, then zeros if they run out.
    let (mut whole, mut nonzero) = (0u64, false);
    for &byte in text.iter().take_while(|&&b| b != b'e' && b != b'E') {
        if !byte.is_ascii_digit() {
            continue; // the sign and the decimal point
        }
        let digit = byte.wrapping_sub(b'0');
        nonzero |= digit != 0;
        if point > 0 {
            whole = times_ten(whole)?.checked_add(u64::from(digit))?;
            point = point.wrapping_sub(1);
        }
    }
    if text.first() == Some(&b'-') {
        return if nonzero { None } else { Some(0) };
    }
    // At most 20 rounds: u64::MAX has 20 digits.
    while point > 0 && whole != 0 {
        whole = times_ten(whole)?;
        point = point.wrapping_sub(1);
    }
    Some(whole)
}

/// `n * 10`, or `None` past `u64::MAX`. Not `checked_mul`: on 32-bit targets that is a 128-bit
/// multiplication, which costs hundreds of bytes of WebAssembly.
fn times_ten(n: u64) -> Option<u64> {
    (n <= u64::MAX / 10).then(|| n.wrapping_mul(10))
}

#[cfg(test)]
mod tests {
    use super::numeric_date;

    #[test]
    fn numeric_dates_in_every_form() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("-0", Some(0)),
            ("-0.0e10", Some(0)),
            ("1700000300", Some(1_700_000_300)),
            ("1700000300.5", Some(1_700_000_300)),
            ("1700000300.999999", Some(1_700_000_300)),
            ("1.7000003e+09", Some(1_700_000_300)),
            ("1.7000003E9", Some(1_700_000_300)),
            ("17000003e2", Some(1_700_000_300)),
            ("170000030000e-2", Some(1_700_000_300)),
            ("0.0000017000003e15", Some(1_700_000_300)),
            ("0.5", Some(0)),
            ("5e-1", Some(0)),
            ("1e-99999999999999999999", Some(0)),
            ("0e99999999999999999999", Some(0)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551615.9", Some(u64::MAX)),
            ("1.8446744073709551615e19", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("1.8446744073709551616e19", None),
            ("1e20", None),
            ("1e30", None),
            ("1e400", None),
            ("1e99999999999999999999", None),
            ("-1", None),
            ("-0.5", None),
            ("-1e-30", None),
        ];
        for (text, want) in cases {
            let got = numeric_date(text.as_bytes());
            assert_eq!(got, *want, "{text}");
        }
        // Plain digits (up to 19 of them, read directly) and the same value with a fraction
        // (read by the general steps) agree, around every power of ten and the top of `u64`.
        extern crate std;
        let mut values = std::vec![0u64, 1, 9, u64::MAX - 1, u64::MAX];
        for power in 0..20 {
            let p = 10u64.pow(power);
            values.extend([p - 1, p, p + 1, p.saturating_mul(9)]);
        }
        for value in values {
            let plain = std::format!("{value}");
            assert_eq!(numeric_date(plain.as_bytes()), Some(value), "{plain}");
            assert_eq!(numeric_date(std::format!("{plain}.0").as_bytes()), Some(value), "{plain}.0");
        }
        assert_eq!(numeric_date(b"99999999999999999999"), None);
    }
}
