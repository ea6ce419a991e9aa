//! Redaction of personal data (个人信息) from free text before a case is published.
//!
//! [`redact`] finds mobile and landline numbers, resident ID numbers, e-mail
//! addresses, bank card numbers, vehicle plates and the submitting citizen's own
//! name, and replaces each with a typed mask such as `[手机号]`. It is pure logic:
//! no I/O, no allocation beyond the output, regexes compiled once.
//!
//! The rules, their limits and the measured leak / false-positive figures on the
//! corpus in `api/testdata/redaction/` are documented in `docs/OPEN_DATA.md`
//! ("Redaction of free text"). In short, every numeric rule:
//!
//! 1. matches a candidate with a regex (ASCII or full-width digits, common separators);
//! 2. requires a clean boundary: no digit or ASCII letter glued to either side (so
//!    the number is not a slice of a longer code such as `MY20240305000123`), no
//!    decimal point, no unit such as `元` or `路` right after;
//! 3. is skipped when a non-personal label stands right before it (`订单号`, `发票号码`,
//!    `运单号`, `编号`, …);
//! 4. is validated (ID checksum and birth date, Luhn plus issuer prefix or card
//!    context, landline area-code / local-number lengths);
//! 5. a strong personal label right before it (`身份证号`, `卡号`, `账号`) overrides
//!    the validation, because a mistyped ID or card number is still personal.
//!
//! Overlapping findings are resolved longest-first (an e-mail `13812345678@qq.com`
//! wins over the mobile number inside it).

mod checksums;

use checksums::num;
pub use checksums::{is_valid_old_resident_id, is_valid_resident_id, luhn_valid};
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// The kinds of personal data found in text, each with its typed mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    /// Mainland mobile number, `[手机号]`.
    Mobile,
    /// Fixed-line number with an area code (or labelled `电话`/`座机`), `[固定电话]`.
    Landline,
    /// Resident ID number, 18-digit (GB 11643) or 15-digit old form, `[身份证号]`.
    IdNumber,
    /// E-mail address, `[邮箱]`.
    Email,
    /// Bank card / account number, `[银行卡号]`.
    BankCard,
    /// Vehicle licence plate, `[车牌号]`.
    Plate,
    /// The submitting citizen's own name, `[姓名]`.
    Name,
}

impl PiiKind {
    /// Every kind, in mask order.
    pub const ALL: [PiiKind; 7] = [
        PiiKind::Mobile,
        PiiKind::Landline,
        PiiKind::IdNumber,
        PiiKind::Email,
        PiiKind::BankCard,
        PiiKind::Plate,
        PiiKind::Name,
    ];

    /// The typed mask that replaces a finding of this kind.
    pub fn mask(self) -> &'static str {
        match self {
            PiiKind::Mobile => "[手机号]",
            PiiKind::Landline => "[固定电话]",
            PiiKind::IdNumber => "[身份证号]",
            PiiKind::Email => "[邮箱]",
            PiiKind::BankCard => "[银行卡号]",
            PiiKind::Plate => "[车牌号]",
            PiiKind::Name => "[姓名]",
        }
    }

    /// A stable snake_case code (used by the test corpus and in reports).
    pub fn code(self) -> &'static str {
        match self {
            PiiKind::Mobile => "mobile",
            PiiKind::Landline => "landline",
            PiiKind::IdNumber => "id_number",
            PiiKind::Email => "email",
            PiiKind::BankCard => "bank_card",
            PiiKind::Plate => "plate",
            PiiKind::Name => "name",
        }
    }

    /// The kind for a [`PiiKind::code`].
    pub fn from_code(code: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Tie-break when two findings cover exactly the same span: lower wins.
    fn priority(self) -> u8 {
        match self {
            PiiKind::IdNumber => 0,
            PiiKind::BankCard => 1,
            PiiKind::Mobile => 2,
            PiiKind::Landline => 3,
            PiiKind::Email => 4,
            PiiKind::Plate => 5,
            PiiKind::Name => 6,
        }
    }
}

/// The redacted text and what was found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// The text with every finding replaced by its mask.
    pub text: String,
    /// How many findings of each kind, in [`PiiKind::ALL`] order, kinds with none omitted.
    pub found: Vec<(PiiKind, usize)>,
}

impl Redaction {
    /// Whether nothing was redacted.
    pub fn is_unchanged(&self) -> bool {
        self.found.is_empty()
    }

    /// How many findings of `kind`.
    pub fn count(&self, kind: PiiKind) -> usize {
        self.found
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

// ---------------------------------------------------------------------------
// Patterns. `D` is one ASCII or full-width digit, `S` one separator.

const D: &str = "[0-9０-９]";
const S: &str = "[ \\-－\u{3000}]";
/// Separators inside a mobile number: also a dot (`139.1234.5678`).
const MS: &str = "[ \\-－\u{3000}\\.]";

/// Compiles one of the constant patterns below.
///
/// The patterns are fixed string literals (no user input); every test run compiles
/// all of them, so `expect` cannot fire in a build that passed its tests.
fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant redaction pattern compiles")
}

static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?:(?:\+|＋|00|００)?(?:86|８６){S}?|[\(（](?:\+|＋)?(?:86|８６)[\)）]{S}?)?[1１][3-9３-９]{D}{MS}?{D}{MS}?{D}{{3}}{MS}?{D}{MS}?{D}{{3}}"
    ))
});

static LANDLINE: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?:(?P<cc>(?:\+|＋|00|００)(?:86|８６)){S}?(?:[\(（][0０][\)）]{S}?)?[\(（]?(?P<area_cc>[1１][0０]|[2２]{D}|[3-9３-９]{D}{{2}})[\)）]?|[\(（]?(?P<area>[0０](?:[1１][0０]|[2２]{D}|[3-9３-９]{D}{{2}}))[\)）]?)(?P<sep>{S}?)(?P<local>[1-9１-９]{D}{{2,3}}{S}?{D}{{4}})"
    ))
});

static LOCAL_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r"[2-8２-８]{D}{{2,3}}{S}?{D}{{4}}")));

static ID18: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"[1-8１-８]{D}{{5}} ?{D}{{4}} ?{D}{{4}} ?{D}{{3}}[0-9０-９XxＸｘ]"
    ))
});

static ID15: LazyLock<Regex> = LazyLock::new(|| compile(&format!(r"[1-8１-８]{D}{{14}}")));

static CARD: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"{D}{{4}}(?:{S}{D}{{4}}){{3}}(?:{S}{D}{{1,3}})?|{D}{{6}}{S}{D}{{10,13}}|{D}{{16,19}}"
    ))
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"[A-Za-z0-9][A-Za-z0-9._%+\-]*[@＠][A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}",
    )
});

static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ][·•・\.．\- \u{3000}]?[A-HJ-NP-Za-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ0-9０-９]{4,5}[A-HJ-NP-Za-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ0-9０-９挂学警港澳]",
    )
});

// ---------------------------------------------------------------------------
// Labels. A label "stands right before" a number when the text before the number,
// with the fillers below stripped from its end, ends with the label.

const FILLERS: &[char] = &[
    ' ', '\u{3000}', '\t', '：', ':', '是', '为', '#', '＃', '=', '(', '（', '【', '[', '“', '"',
    '「', '\'',
];

/// Labels of non-personal numbers: a number right after one of these is left alone.
const NON_PERSONAL_LABELS: &[&str] = &[
    "单号",
    "编号",
    "流水号",
    "交易号",
    "发票号码",
    "发票号",
    "票号",
    "代码",
    "编码",
    "合同号",
    "批号",
    "批次号",
    "受理号",
    "案号",
    "文号",
    "证书号",
    "许可证号",
    "执照号",
    "税号",
    "识别号",
    "条码",
    "条形码",
    "型号",
    "序列号",
    "设备号",
    "户号",
    "缴费号",
    "保单号",
    "航班号",
    "车次",
    "快递号",
    "追踪号",
    "凭证号",
    "登记号",
    "备案号",
    "专利号",
    "表号",
    "资产号",
    "商品号",
    "货号",
    "订单",
    "工单",
    "sn",
    "isbn",
    "imei",
];

/// Labels that make a 15/18-digit number an ID number even if it fails validation.
const ID_LABELS: &[&str] = &[
    "身份证",
    "身份证号",
    "身份证号码",
    "证件号",
    "证件号码",
    "身份号码",
];

/// Labels that make a 16–19-digit number a bank card even if it fails Luhn.
const CARD_LABELS: &[&str] = &[
    "卡号",
    "银行卡",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "储蓄卡",
    "借记卡",
    "信用卡",
    "工资卡",
];

/// Words that, within [`CARD_CONTEXT_CHARS`] characters before a Luhn-valid number,
/// make it a bank card whatever its issuer prefix.
const CARD_CONTEXT: &[&str] = &[
    "银行卡",
    "卡号",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "借记卡",
    "信用卡",
    "储蓄卡",
    "工资卡",
    "银联",
    "开户行",
    "开户银行",
    "转账",
    "汇款",
    "打款",
    "收款",
];
const CARD_CONTEXT_CHARS: usize = 20;

/// Labels that make a 7–8-digit number without area code a landline.
const PHONE_LABELS: &[&str] = &["电话", "座机", "固话", "电话号码", "联系方式", "tel"];

/// Labels of public service numbers: never masked by the label rule.
const PUBLIC_PHONE_LABELS: &[&str] = &[
    "热线",
    "热线电话",
    "服务电话",
    "投诉电话",
    "举报电话",
    "咨询电话",
    "客服电话",
    "值班电话",
    "监督电话",
    "办公电话",
    "报警电话",
    "急救电话",
];

/// ASCII words that may be glued to a phone number (`Tel13812345678`).
const PHONE_LETTER_PREFIXES: &[&str] = &["tel", "phone", "mobile", "mob", "cell", "vx", "wx", "qq"];

/// Units that turn a number into an amount or a route, not a phone or card.
const UNITS_AFTER: &[&str] = &["元", "万", "亿", "块", "路", "%", "％"];

const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯",
    "长孙", "宇文", "轩辕", "端木", "西门", "南宫", "独孤", "申屠", "太史", "呼延", "澹台", "万俟",
];

/// Forms of address redacted together with the citizen's surname (`张先生`).
const TITLES: &[&str] = &["先生", "女士", "小姐"];

// ---------------------------------------------------------------------------
// Public API.

/// The text the public may see: `text` with personal data masked, the citizen's own
/// name (when known) included. What writers store in the `public_*` columns.
pub fn public_text(text: &str, citizen_name: Option<&str>) -> String {
    let names: Vec<&str> = citizen_name.into_iter().collect();
    redact(text, &names).text
}

/// Redacts `text`.
///
/// `names` are the submitting citizen's own name(s); each name of at least two
/// characters is redacted wherever it appears (also with a space between its
/// characters), and for a Chinese name of 2–4 characters also the surname followed by
/// 先生/女士/小姐 (`张伟` → `张先生`, `欧阳娜娜` → `欧阳女士`). One-character names are
/// ignored: they would destroy ordinary words.
pub fn redact(text: &str, names: &[&str]) -> Redaction {
    let mut cands = Vec::new();
    find_numbers(text, &mut cands);
    scan(&EMAIL, text, &mut cands, |_, _| Some(PiiKind::Email));
    scan(&PLATE, text, &mut cands, |s, e| judge_plate(text, s, e));
    find_names(text, names, &mut cands);

    // Longest first, then by kind priority, then leftmost; keep non-overlapping.
    cands.sort_by_key(|c| {
        (
            std::cmp::Reverse(c.end - c.start),
            c.kind.priority(),
            c.start,
        )
    });
    let mut kept: Vec<Cand> = Vec::with_capacity(cands.len());
    for c in cands {
        if kept.iter().all(|k| c.end <= k.start || k.end <= c.start) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| c.start);

    let mut out = String::with_capacity(text.len());
    let mut counts: BTreeMap<PiiKind, usize> = BTreeMap::new();
    let mut pos = 0;
    for c in &kept {
        out.push_str(&text[pos..c.start]);
        out.push_str(c.kind.mask());
        pos = c.end;
        *counts.entry(c.kind).or_default() += 1;
    }
    out.push_str(&text[pos..]);
    Redaction {
        text: out,
        found: counts.into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------
// Internals.

#[derive(Debug, Clone, Copy)]
struct Cand {
    start: usize,
    end: usize,
    kind: PiiKind,
}

/// Runs `re` over `text`; `judge(start, end)` accepts a match with a kind or
/// rejects it. After a rejection the search resumes one character after the start
/// of the rejected match, so a valid shorter candidate inside it is still found.
fn scan(
    re: &Regex,
    text: &str,
    out: &mut Vec<Cand>,
    mut judge: impl FnMut(usize, usize) -> Option<PiiKind>,
) {
    let mut pos = 0;
    while pos < text.len() {
        let Some(m) = re.find_at(text, pos) else {
            break;
        };
        if let Some(kind) = judge(m.start(), m.end()) {
            out.push(Cand {
                start: m.start(),
                end: m.end(),
                kind,
            });
            pos = m.end();
        } else {
            pos = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        }
    }
}

fn find_numbers(text: &str, out: &mut Vec<Cand>) {
    // Cheap pre-check: most rules need a run of digits.
    if !text.chars().any(is_digit) {
        return;
    }
    scan(&MOBILE, text, out, |s, e| judge_mobile(text, s, e));
    scan(&LANDLINE, text, out, |s, e| judge_landline(text, s, e));
    scan(&LOCAL_NUMBER, text, out, |s, e| {
        judge_local_number(text, s, e)
    });
    scan(&ID18, text, out, |s, e| judge_id(text, s, e, 18));
    scan(&ID15, text, out, |s, e| judge_id(text, s, e, 15));
    scan(&CARD, text, out, |s, e| judge_card(text, s, e));
}

fn judge_mobile(text: &str, s: usize, e: usize) -> Option<PiiKind> {
    (numeric_boundaries(text, s, e, true) && !label_is(text, s, NON_PERSONAL_LABELS))
        .then_some(PiiKind::Mobile)
}

fn judge_landline(text: &str, s: usize, e: usize) -> Option<PiiKind> {
    if !numeric_boundaries(text, s, e, true) || label_is(text, s, NON_PERSONAL_LABELS) {
        return None;
    }
    let caps = LANDLINE.captures(&text[s..e])?;
    let area = caps
        .name("area")
        .or_else(|| caps.name("area_cc"))
        .map(|m| digits_of(m.as_str()))?;
    let local = digits_of(caps.name("local")?.as_str());
    let area_len = if area.starts_with('0') {
        area.len()
    } else {
        area.len() + 1
    };
    // 010 and 02x areas have 8-digit local numbers; the 4-digit areas 7 or 8.
    let ok = match area_len {
        3 => local.len() == 8,
        4 => local.len() == 7 || local.len() == 8,
        _ => false,
    };
    ok.then_some(PiiKind::Landline)
}

fn judge_local_number(text: &str, s: usize, e: usize) -> Option<PiiKind> {
    let ok = numeric_boundaries(text, s, e, true)
        && !label_is(text, s, PUBLIC_PHONE_LABELS)
        && label_is(text, s, PHONE_LABELS);
    ok.then_some(PiiKind::Landline)
}

fn judge_id(text: &str, s: usize, e: usize, len: usize) -> Option<PiiKind> {
    if !numeric_boundaries(text, s, e, false) || label_is(text, s, NON_PERSONAL_LABELS) {
        return None;
    }
    let id = digits_of(&text[s..e]);
    if id.len() != len {
        return None;
    }
    let valid = if len == 18 {
        is_valid_resident_id(&id)
    } else {
        is_valid_old_resident_id(&id)
    };
    (valid || label_is(text, s, ID_LABELS)).then_some(PiiKind::IdNumber)
}

fn judge_card(text: &str, s: usize, e: usize) -> Option<PiiKind> {
    if !numeric_boundaries(text, s, e, false) || label_is(text, s, NON_PERSONAL_LABELS) {
        return None;
    }
    let raw = &text[s..e];
    // Grouped numbers must use one separator throughout.
    let mut seps = raw.chars().filter(|c| !is_digit(*c));
    if let Some(first) = seps.next() {
        if seps.any(|c| c != first) {
            return None;
        }
    }
    let digits = digits_of(raw);
    if !(16..=19).contains(&digits.len()) {
        return None;
    }
    if label_is(text, s, CARD_LABELS) {
        return Some(PiiKind::BankCard);
    }
    let card = luhn_valid(&digits) && (plausible_iin(&digits) || card_context(text, s));
    card.then_some(PiiKind::BankCard)
}

/// Issuer prefixes and lengths of cards in use in China: UnionPay `62` (16–19),
/// Visa `4` (16, 19), Mastercard `51`–`55` and `2221`–`2720` (16), JCB `35` (16–19),
/// `60`/`65` (16–19, Discover and early domestic BINs), domestic `95` (19).
fn plausible_iin(d: &str) -> bool {
    let n = d.len();
    let p2 = num(&d[..2]);
    let p4 = num(&d[..4]);
    match p2 {
        62 | 35 | 60 | 65 => true,
        40..=49 => n == 16 || n == 19,
        51..=55 => n == 16,
        22..=27 => n == 16 && (2221..=2720).contains(&p4),
        95 => n == 19,
        _ => false,
    }
}

fn card_context(text: &str, s: usize) -> bool {
    let window: String = {
        let before: Vec<char> = text[..s].chars().rev().take(CARD_CONTEXT_CHARS).collect();
        before.into_iter().rev().collect()
    };
    CARD_CONTEXT.iter().any(|w| window.contains(w))
}

fn judge_plate(text: &str, s: usize, e: usize) -> Option<PiiKind> {
    if text[e..]
        .chars()
        .next()
        .is_some_and(|c| to_ascii_digit(c).is_ascii_alphanumeric())
    {
        return None;
    }
    // The serial after province character and issuing-authority letter.
    let serial: Vec<char> = text[s..e]
        .chars()
        .skip(2)
        .filter(|c| c.is_alphanumeric())
        .map(to_ascii_digit)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digits = serial.iter().filter(|c| c.is_ascii_digit()).count();
    let ok = match serial.len() {
        // Ordinary plate: five characters, at least three of them digits (at most
        // two letters, or a 挂/学/警/港/澳 suffix).
        5 => digits >= 3,
        // New-energy plate: D/F then five (small car) or five digits then D/F (large).
        6 => {
            let first = serial[0];
            let last = serial[5];
            ((first == 'D' || first == 'F') && digits >= 4)
                || ((last == 'D' || last == 'F') && digits == 5)
        }
        _ => false,
    };
    ok.then_some(PiiKind::Plate)
}

fn find_names(text: &str, names: &[&str], out: &mut Vec<Cand>) {
    for name in names {
        let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
        if chars.len() < 2 {
            continue;
        }
        find_spaced(text, &chars, out);
        if (2..=4).contains(&chars.len()) && chars.iter().all(|c| is_han(*c)) {
            let full: String = chars.iter().collect();
            let surname_len =
                if chars.len() >= 3 && COMPOUND_SURNAMES.iter().any(|c| full.starts_with(c)) {
                    2
                } else {
                    1
                };
            let surname: String = chars[..surname_len].iter().collect();
            for title in TITLES {
                let form = format!("{surname}{title}");
                for (i, m) in text.match_indices(&form) {
                    out.push(Cand {
                        start: i,
                        end: i + m.len(),
                        kind: PiiKind::Name,
                    });
                }
            }
        }
    }
}

/// Finds `chars` in `text`, allowing one space between consecutive characters.
fn find_spaced(text: &str, chars: &[char], out: &mut Vec<Cand>) {
    for (i, c) in text.char_indices() {
        if c != chars[0] {
            continue;
        }
        let mut rest = text[i + c.len_utf8()..].char_indices().peekable();
        let mut end = i + c.len_utf8();
        let mut matched = true;
        for want in &chars[1..] {
            let mut next = rest.next();
            if let Some((_, ' ' | '\u{3000}')) = next {
                next = rest.next();
            }
            match next {
                Some((j, got)) if got == *want => end = i + c.len_utf8() + j + got.len_utf8(),
                _ => {
                    matched = false;
                    break;
                }
            }
        }
        if matched {
            out.push(Cand {
                start: i,
                end,
                kind: PiiKind::Name,
            });
        }
    }
}

/// Checks what touches a numeric candidate on either side.
///
/// Rejected: a digit or ASCII letter on either side (a slice of a longer code; a
/// letter prefix is allowed for phones when it is a word such as `Tel`), a decimal
/// point with digits, a letter-dash prefix (`A-…`), or a unit after it (`元`, `路`).
fn numeric_boundaries(text: &str, s: usize, e: usize, phone: bool) -> bool {
    let mut before = text[..s].chars().rev();
    match before.next() {
        Some(c) if is_digit(c) => return false,
        Some(c) if c.is_ascii_alphabetic() => {
            if !phone {
                return false;
            }
            let word: String = text[..s]
                .chars()
                .rev()
                .take_while(char::is_ascii_alphabetic)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
                .to_ascii_lowercase();
            if !PHONE_LETTER_PREFIXES.iter().any(|p| word.ends_with(p)) {
                return false;
            }
        }
        Some('.' | '．') if before.next().is_some_and(is_digit) => return false,
        Some('-' | '_') if before.next().is_some_and(|c| c.is_ascii_alphabetic()) => return false,
        _ => {}
    }
    let rest = &text[e..];
    let mut after = rest.chars();
    match after.next() {
        Some(c) if is_digit(c) || c.is_ascii_alphabetic() => return false,
        Some('.' | '．') if after.next().is_some_and(is_digit) => return false,
        _ => {}
    }
    !UNITS_AFTER.iter().any(|u| rest.starts_with(u))
}

/// Whether one of `labels` stands right before byte offset `s` (fillers such as
/// `：`, `是` and spaces skipped; ASCII compared case-insensitively).
fn label_is(text: &str, s: usize, labels: &[&str]) -> bool {
    let head = text[..s].trim_end_matches(FILLERS);
    let tail: String = {
        let chars: Vec<char> = head.chars().rev().take(8).collect();
        chars
            .into_iter()
            .rev()
            .collect::<String>()
            .to_ascii_lowercase()
    };
    labels.iter().any(|l| tail.ends_with(l))
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Maps full-width digits and letters to ASCII.
fn to_ascii_digit(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// The digits (and a check character X) of `s`, as ASCII, separators dropped.
fn digits_of(s: &str) -> String {
    s.chars()
        .map(to_ascii_digit)
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            'x' | 'X' => Some('X'),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
