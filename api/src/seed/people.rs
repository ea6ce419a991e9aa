//! Fake but well-formed personal data: names, mobile numbers, 18-digit resident ID
//! numbers with a valid GB 11643 checksum, addresses, e-mails.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

/// Common surnames, most frequent first (weights fall off with the rank).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
    "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴",
];

const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "建国", "建华", "志强", "志明", "海涛", "晓东",
    "国庆", "子豪", "浩然", "宇轩", "俊杰", "文博", "天佑", "家豪", "明辉", "永红",
];

const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "玉兰", "丹", "萍", "玲", "婷",
    "雪", "琳", "颖", "倩", "洁", "欣怡", "梓涵", "诗涵", "雨涵", "思琪", "佳怡", "晓燕", "春梅",
    "红梅", "淑珍", "美玲", "海燕", "小红", "文静", "慧敏", "雅婷",
];

const MAIL_DOMAINS: &[&str] = &["qq.com", "163.com", "126.com", "sina.com", "foxmail.com"];

const ESTATE_HEADS: &[&str] = &[
    "锦", "华", "阳光", "翠", "金", "绿", "和", "天", "龙", "凤", "蓝", "银", "嘉", "鑫", "海",
    "新", "东方", "幸福", "万", "恒",
];
const ESTATE_TAILS: &[&str] = &[
    "苑", "花园", "小区", "家园", "新城", "公寓", "雅居", "名城", "丽景", "佳园", "城", "府",
];
const ROAD_HEADS: &[&str] = &[
    "人民", "解放", "建设", "中山", "新华", "文化", "东风", "和平", "胜利", "滨江", "府河", "光华",
    "青年", "学府", "金沙", "红星", "长征", "团结", "迎宾", "工业",
];
const ROAD_TAILS: &[&str] = &["路", "大道", "街", "东路", "西路", "南路", "北路", "巷"];

/// The weights of the mobile prefixes' second digit.
const MOBILE_SECOND: &[(char, u32)] = &[
    ('3', 30),
    ('5', 22),
    ('8', 28),
    ('7', 8),
    ('9', 8),
    ('6', 2),
    ('4', 2),
];

/// One citizen's personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// The GB 11643-1999 check character of the first 17 digits of a resident ID number.
/// Returns `None` unless `first17` is exactly 17 ASCII digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    CHECK.get((sum % 11) as usize).copied()
}

/// Whether an 18-character resident ID number has a valid check character (the same
/// rule the redaction applies).
#[cfg(test)]
pub fn id_number_is_valid(id: &str) -> bool {
    crate::open_data::redaction::is_valid_resident_id(id)
}

/// Index into a list whose weights decay with the rank (roughly Zipf).
fn ranked<R: Rng>(rng: &mut R, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * len as f64) as usize).min(len.saturating_sub(1))
}

pub fn pick<'a, R: Rng>(rng: &mut R, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

pub fn mobile<R: Rng>(rng: &mut R) -> String {
    let total: u32 = MOBILE_SECOND.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    let mut second = '3';
    for (c, w) in MOBILE_SECOND {
        if x < *w {
            second = *c;
            break;
        }
        x -= w;
    }
    let rest: u64 = rng.random_range(0..1_000_000_000);
    format!("1{second}{rest:09}")
}

/// A housing estate name, e.g. "锦华苑".
pub fn estate<R: Rng>(rng: &mut R) -> String {
    format!("{}{}", pick(rng, ESTATE_HEADS), pick(rng, ESTATE_TAILS))
}

/// A road name, e.g. "人民南路".
pub fn road<R: Rng>(rng: &mut R) -> String {
    format!("{}{}", pick(rng, ROAD_HEADS), pick(rng, ROAD_TAILS))
}

/// A person living in `place` (the full chain of region names), with an ID number issued
/// in `county_code` (6 digits), born between 18 and 80 years before `reference`.
pub fn person<R: Rng>(rng: &mut R, place: &str, county_code: &str, reference: NaiveDate) -> Person {
    let male = rng.random_bool(0.52);
    let surname = SURNAMES[ranked(rng, SURNAMES.len())];
    let given = if male {
        pick(rng, GIVEN_MALE)
    } else {
        pick(rng, GIVEN_FEMALE)
    };
    let age_days = rng.random_range(18 * 365..80 * 365);
    let birth = reference
        .checked_sub_days(chrono::Days::new(age_days))
        .unwrap_or(reference);
    let mut sequence: u32 = rng.random_range(0..500) * 2;
    if male {
        sequence += 1;
    }
    let area = if county_code.len() == 6 && county_code.bytes().all(|b| b.is_ascii_digit()) {
        county_code
    } else {
        "510104"
    };
    let first17 = format!(
        "{area}{:04}{:02}{:02}{sequence:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    let id_number = id_check_char(&first17).map(|c| format!("{first17}{c}"));
    let address = format!(
        "{place}{}{}号{}{}栋{}单元{}",
        road(rng),
        rng.random_range(1..400),
        estate(rng),
        rng.random_range(1..30),
        rng.random_range(1..6),
        rng.random_range(1..33) * 100 + rng.random_range(1..5)
    );
    let email = rng.random_bool(0.3).then(|| {
        let user: u64 = rng.random_range(10_000..4_000_000_000);
        format!("{user}@{}", pick(rng, MAIL_DOMAINS))
    });
    Person {
        name: format!("{surname}{given}"),
        phone: rng.random_bool(0.97).then(|| mobile(rng)),
        id_number: rng.random_bool(0.8).then_some(id_number).flatten(),
        email,
        address: rng.random_bool(0.9).then_some(address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_check_character_matches_the_published_example() {
        // The standard's own example: 11010519491231002X.
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
        assert!(id_number_is_valid("11010519491231002X"));
        assert!(!id_number_is_valid("110105194912310021"));
        assert!(!id_number_is_valid("1101051949123100"));
        assert_eq!(id_check_char("1101051949123100a"), None);
    }

    #[test]
    fn generated_people_have_valid_ids_and_mobiles() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let reference = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
        for _ in 0..2000 {
            let p = person(&mut rng, "四川省成都市锦江区", "510104", reference);
            if let Some(id) = &p.id_number {
                assert!(id_number_is_valid(id), "{id}");
                assert!(id.starts_with("510104"));
            }
            if let Some(phone) = &p.phone {
                assert_eq!(phone.len(), 11);
                assert!(phone.starts_with('1'));
                assert!(matches!(phone.as_bytes()[1], b'3'..=b'9'), "{phone}");
                assert!(phone.bytes().all(|b| b.is_ascii_digit()));
            }
            assert!(p.name.chars().count() >= 2);
        }
    }
}
