//! The checks that tell a personal number from any other run of digits: resident ID
//! numbers (GB 11643-1999 check character, GB/T 2260 province, birth date) and the Luhn
//! check of bank cards. Pure functions of ASCII digits; [`super::redact`] calls them
//! after a regex has found a candidate.

/// Whether `s` is an 18-character resident ID number (GB 11643-1999): a valid
/// province code, a valid birth date (1900 or later), and the ISO 7064 MOD 11-2
/// check character (`X`/`x` for 10).
pub fn is_valid_resident_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == expected
        && valid_area(&s[..6])
        && valid_date(num(&s[6..10]), num(&s[10..12]), num(&s[12..14]))
}

/// Whether `s` is a 15-digit resident ID number of the first generation: a valid
/// province code and a valid birth date `YYMMDD` (19YY). It has no check digit.
pub fn is_valid_old_resident_id(s: &str) -> bool {
    s.len() == 15
        && s.bytes().all(|b| b.is_ascii_digit())
        && valid_area(&s[..6])
        && valid_date(1900 + num(&s[6..8]), num(&s[8..10]), num(&s[10..12]))
}

/// Whether `digits` (ASCII digits only, at least two) pass the Luhn check.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Parses a short run of ASCII digits (callers guarantee digits).
pub(super) fn num(s: &str) -> u32 {
    s.bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

/// Province codes of GB/T 2260 (11 Beijing … 65 Xinjiang, 71 Taiwan, 81/82 Hong
/// Kong/Macao, 83 Taiwan residence permits), and a non-zero city/county part.
fn valid_area(a: &str) -> bool {
    let province = num(&a[..2]);
    let known = matches!(
        province,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83
    );
    // A province-level prefix (`510000…`) is not a real issuing area, but masking such a
    // number costs little and a leak costs much: only the province digits are checked.
    known
}

fn valid_date(y: u32, m: u32, d: u32) -> bool {
    if !(1900..=2099).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}
