//! Tests of the parent module, kept apart so the module itself stays short.

use super::*;
use chrono_tz::Asia::Shanghai;
use proptest::prelude::*;

/// The real official calendar 2018–2026 as shipped with the project.
fn official() -> WorkCalendar {
    let rows = migration::reference::holiday_rows().expect("embedded holiday data parses");
    WorkCalendar::shanghai(rows.into_iter().map(|r| (r.date, r.is_off_day)))
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("test date")
}

/// A Shanghai local time "YYYY-MM-DD HH:MM:SS" as UTC.
fn sh(s: &str) -> DateTime<Utc> {
    let naive =
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test datetime");
    Shanghai
        .from_local_datetime(&naive)
        .single()
        .expect("Shanghai has no DST")
        .with_timezone(&Utc)
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("test RFC 3339 instant")
}

/// The deadline as a Shanghai local time string, to compare with the calendar by eye.
fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

// --- is_working_day --------------------------------------------------------------

#[test]
fn unlisted_weekdays_work_and_unlisted_weekends_are_off() {
    let cal = WorkCalendar::shanghai([]);
    assert!(cal.is_working_day(date("2025-03-03"))); // Monday
    assert!(cal.is_working_day(date("2025-03-07"))); // Friday
    assert!(!cal.is_working_day(date("2025-03-08"))); // Saturday
    assert!(!cal.is_working_day(date("2025-03-09"))); // Sunday
}

#[test]
fn listed_dates_override_the_weekday_rule() {
    let cal = official();
    assert!(
        !cal.is_working_day(date("2025-01-28")),
        "Spring Festival Tuesday is off"
    );
    assert!(
        !cal.is_working_day(date("2025-10-08")),
        "National Day Wednesday is off"
    );
    assert!(
        cal.is_working_day(date("2025-01-26")),
        "make-up Sunday works"
    );
    assert!(
        cal.is_working_day(date("2025-02-08")),
        "make-up Saturday works"
    );
    assert!(
        cal.is_working_day(date("2025-09-28")),
        "make-up Sunday before National Day works"
    );
    assert!(
        cal.is_working_day(date("2025-10-11")),
        "make-up Saturday after National Day works"
    );
    assert!(
        cal.is_working_day(date("2026-01-04")),
        "make-up Sunday after New Year 2026 works"
    );
    assert!(
        !cal.is_working_day(date("2026-01-02")),
        "New Year Friday 2026 is off"
    );
}

#[test]
fn a_date_listed_twice_keeps_the_later_entry() {
    let d = date("2025-03-03");
    let cal = WorkCalendar::shanghai([(d, false), (d, true)]);
    assert!(!cal.is_working_day(d));
}

#[test]
fn shanghai_is_the_default_zone_and_new_keeps_the_given_zone() {
    assert_eq!(WorkCalendar::shanghai([]).time_zone(), Shanghai);
    assert_eq!(
        WorkCalendar::new(chrono_tz::UTC, []).time_zone(),
        chrono_tz::UTC
    );
}

// --- add_working_days --------------------------------------------------------------

#[test]
fn seven_working_days_from_a_monday_end_on_the_wednesday_of_the_next_week() {
    let deadline = official().add_working_days(sh("2025-03-03 10:00:00"), 7);
    assert_eq!(local(deadline), "2025-03-12 23:59:59");
    assert_eq!(deadline, utc("2025-03-12T15:59:59Z"));
}

#[test]
fn an_ordinary_weekend_is_skipped() {
    let cal = official();
    assert_eq!(
        local(cal.add_working_days(sh("2025-03-07 15:00:00"), 1)),
        "2025-03-10 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(sh("2025-03-08 11:00:00"), 1)),
        "2025-03-10 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(sh("2025-03-09 11:00:00"), 2)),
        "2025-03-11 23:59:59"
    );
}

#[test]
fn working_days_zero_is_the_end_of_the_start_day_even_on_a_holiday() {
    let cal = official();
    assert_eq!(
        cal.add_working_days(sh("2025-03-10 01:30:00"), 0),
        utc("2025-03-10T15:59:59Z")
    );
    assert_eq!(
        local(cal.add_working_days(sh("2025-01-29 09:00:00"), 0)),
        "2025-01-29 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(sh("2025-03-08 09:00:00"), 0)),
        "2025-03-08 23:59:59"
    );
}

#[test]
fn acceptance_after_midnight_in_shanghai_counts_from_the_shanghai_day_not_the_utc_day() {
    // 01:30 Monday in Shanghai is still Sunday 17:30 in UTC.
    let accepted = sh("2025-03-10 01:30:00");
    assert_eq!(accepted, utc("2025-03-09T17:30:00Z"));
    let cal = official();
    assert_eq!(
        local(cal.add_working_days(accepted, 1)),
        "2025-03-11 23:59:59"
    );
    // The same instant in a UTC calendar starts on Sunday, so Monday is the first day.
    let utc_cal = WorkCalendar::new(chrono_tz::UTC, []);
    assert_eq!(
        utc_cal.add_working_days(accepted, 1),
        utc("2025-03-10T23:59:59Z")
    );
}

#[test]
fn acceptance_late_on_friday_evening_in_shanghai_is_still_friday() {
    let deadline = official().add_working_days(sh("2025-03-07 23:30:00"), 1);
    assert_eq!(local(deadline), "2025-03-10 23:59:59");
}

#[test]
fn deadlines_skip_spring_festival_2025_and_count_its_make_up_days() {
    let cal = official();
    // Fri 01-24: Sat 25 off, Sun 26 make-up (1), Mon 27 (2), 28..02-04 off, Wed 02-05 (3).
    let friday = sh("2025-01-24 10:00:00");
    assert_eq!(
        local(cal.add_working_days(friday, 1)),
        "2025-01-26 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 2)),
        "2025-01-27 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 3)),
        "2025-02-05 23:59:59"
    );
    // ... Thu 02-06 (4), Fri 02-07 (5), make-up Sat 02-08 (6), Mon 02-10 (7).
    assert_eq!(
        local(cal.add_working_days(friday, 6)),
        "2025-02-08 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 7)),
        "2025-02-10 23:59:59"
    );
}

#[test]
fn a_case_accepted_during_spring_festival_2025_counts_from_the_first_day_back() {
    let cal = official();
    assert_eq!(
        local(cal.add_working_days(sh("2025-01-29 09:00:00"), 1)),
        "2025-02-05 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(sh("2025-02-04 22:00:00"), 4)),
        "2025-02-08 23:59:59"
    );
}

#[test]
fn a_make_up_saturday_counts_as_a_working_day() {
    let cal = official();
    // Fri 2025-02-07 + 1 is the make-up Saturday, not the Monday.
    assert_eq!(
        local(cal.add_working_days(sh("2025-02-07 16:00:00"), 1)),
        "2025-02-08 23:59:59"
    );
    // Without the listing the same Saturday is an ordinary weekend day.
    let plain = WorkCalendar::shanghai([]);
    assert_eq!(
        local(plain.add_working_days(sh("2025-02-07 16:00:00"), 1)),
        "2025-02-10 23:59:59"
    );
}

#[test]
fn deadlines_skip_spring_festival_2026_and_count_both_make_up_saturdays() {
    let cal = official();
    // 2026: make-up Sat 02-14, off Sun 02-15 .. Mon 02-23, make-up Sat 02-28.
    let friday = sh("2026-02-13 09:00:00");
    assert_eq!(
        local(cal.add_working_days(friday, 1)),
        "2026-02-14 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 2)),
        "2026-02-24 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 6)),
        "2026-02-28 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 7)),
        "2026-03-02 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(sh("2026-02-15 12:00:00"), 1)),
        "2026-02-24 23:59:59"
    );
}

#[test]
fn deadlines_skip_national_day_2025_and_count_its_make_up_weekend_days() {
    let cal = official();
    // Fri 09-26: Sat 27 off, Sun 28 make-up (1), Mon 29 (2), Tue 30 (3),
    // 10-01..10-08 off, Thu 10-09 (4), Fri 10-10 (5), make-up Sat 10-11 (6), Mon 10-13 (7).
    let friday = sh("2025-09-26 10:00:00");
    assert_eq!(
        local(cal.add_working_days(friday, 1)),
        "2025-09-28 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 3)),
        "2025-09-30 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 4)),
        "2025-10-09 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 6)),
        "2025-10-11 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(friday, 7)),
        "2025-10-13 23:59:59"
    );
}

#[test]
fn deadlines_cross_from_december_2025_into_january_2026() {
    let cal = official();
    // Mon 12-29: Tue 30 (1), Wed 31 (2), 01-01..01-03 off, make-up Sun 01-04 (3),
    // Mon 01-05 (4), Tue 01-06 (5).
    let monday = sh("2025-12-29 10:00:00");
    assert_eq!(
        local(cal.add_working_days(monday, 2)),
        "2025-12-31 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(monday, 3)),
        "2026-01-04 23:59:59"
    );
    assert_eq!(
        local(cal.add_working_days(monday, 5)),
        "2026-01-06 23:59:59"
    );
    // 23:30 on New Year's Eve in Shanghai is 15:30 UTC, still 2025 everywhere.
    assert_eq!(
        cal.add_working_days(sh("2025-12-31 23:30:00"), 1),
        utc("2026-01-04T15:59:59Z")
    );
}

// --- clock_hours -----------------------------------------------------------------

#[test]
fn clock_hours_count_every_hour_and_never_go_negative() {
    let a = utc("2025-03-07T10:00:00Z");
    assert_eq!(
        WorkCalendar::clock_hours(a, utc("2025-03-07T18:30:00Z")),
        8.5
    );
    assert_eq!(
        WorkCalendar::clock_hours(a, utc("2025-03-10T10:00:00Z")),
        72.0
    );
    assert_eq!(WorkCalendar::clock_hours(a, a), 0.0);
    assert_eq!(
        WorkCalendar::clock_hours(a, utc("2025-03-07T09:00:00Z")),
        0.0
    );
}

// --- working_days_between --------------------------------------------------------

#[test]
fn one_full_working_day_elapses_from_monday_to_tuesday_at_the_same_time() {
    let cal = official();
    assert_eq!(
        cal.working_days_between(sh("2025-03-03 10:00:00"), sh("2025-03-04 10:00:00")),
        1.0
    );
    assert_eq!(
        cal.working_days_between(sh("2025-03-03 00:00:00"), sh("2025-03-08 00:00:00")),
        5.0
    );
}

#[test]
fn weekend_time_counts_nothing_between_friday_evening_and_monday_morning() {
    let cal = official();
    // Friday 18:00–24:00 = 6/24, Monday 00:00–09:00 = 9/24.
    assert_eq!(
        cal.working_days_between(sh("2025-03-07 18:00:00"), sh("2025-03-10 09:00:00")),
        0.625
    );
    assert_eq!(
        cal.working_days_between(sh("2025-03-08 01:00:00"), sh("2025-03-09 23:00:00")),
        0.0
    );
}

#[test]
fn spring_festival_2025_counts_nothing_and_its_make_up_days_count_fully() {
    let cal = official();
    // Sun 01-26 and Mon 01-27 work; 01-28 .. 02-04 are off.
    assert_eq!(
        cal.working_days_between(sh("2025-01-25 00:00:00"), sh("2025-02-05 00:00:00")),
        2.0
    );
    // Fri 02-07 noon → Sun 02-09 noon: half a Friday + the make-up Saturday.
    assert_eq!(
        cal.working_days_between(sh("2025-02-07 12:00:00"), sh("2025-02-09 12:00:00")),
        1.5
    );
}

#[test]
fn national_day_2025_week_counts_only_its_make_up_days() {
    let cal = official();
    // Sat 09-27 .. Sun 10-12: working are Sun 09-28, Mon 29, Tue 30, Thu 10-09, Fri 10, Sat 11.
    assert_eq!(
        cal.working_days_between(sh("2025-09-27 00:00:00"), sh("2025-10-13 00:00:00")),
        6.0
    );
}

#[test]
fn working_days_between_cuts_days_at_shanghai_midnight_not_utc_midnight() {
    let cal = official();
    // Sun 12:00 → Mon 06:00 Shanghai (all of it Sunday in UTC): 6 hours of Monday.
    assert_eq!(
        cal.working_days_between(sh("2025-03-09 12:00:00"), sh("2025-03-10 06:00:00")),
        0.25
    );
    let utc_cal = WorkCalendar::new(chrono_tz::UTC, []);
    assert_eq!(
        utc_cal.working_days_between(sh("2025-03-09 12:00:00"), sh("2025-03-10 06:00:00")),
        0.0
    );
}

#[test]
fn working_days_between_an_end_before_the_start_is_zero() {
    let cal = official();
    assert_eq!(
        cal.working_days_between(sh("2025-03-04 10:00:00"), sh("2025-03-03 10:00:00")),
        0.0
    );
    assert_eq!(
        cal.working_days_between(sh("2025-03-04 10:00:00"), sh("2025-03-04 10:00:00")),
        0.0
    );
}

#[test]
fn working_days_across_the_new_year_2026_count_the_make_up_sunday() {
    let cal = official();
    // Wed 12-31 12:00 → Mon 01-05 06:00: 0.5 + Sun 01-04 (1.0) + 0.25.
    assert_eq!(
        cal.working_days_between(sh("2025-12-31 12:00:00"), sh("2026-01-05 06:00:00")),
        1.75
    );
}

#[test]
fn a_daylight_saving_day_is_still_one_working_day() {
    // America/New_York sprang forward on Sun 2025-03-09 (23-hour day) and fell back on
    // Sun 2025-11-02 (25-hour day); make both working days to test the day length.
    let ny = chrono_tz::America::New_York;
    let cal = WorkCalendar::new(
        ny,
        [(date("2025-03-09"), false), (date("2025-11-02"), false)],
    );
    let at = |s: &str| {
        let naive =
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test datetime");
        ny.from_local_datetime(&naive)
            .earliest()
            .expect("exists")
            .with_timezone(&Utc)
    };
    assert_eq!(
        cal.working_days_between(at("2025-03-09 00:00:00"), at("2025-03-10 00:00:00")),
        1.0
    );
    assert_eq!(
        cal.working_days_between(at("2025-11-02 00:00:00"), at("2025-11-03 00:00:00")),
        1.0
    );
    assert_eq!(
        cal.add_working_days(at("2025-03-08 12:00:00"), 1),
        utc("2025-03-10T03:59:59Z")
    );
    assert_eq!(
        cal.add_working_days(at("2025-11-01 12:00:00"), 1),
        utc("2025-11-03T04:59:59Z")
    );
}

#[test]
fn a_skipped_midnight_starts_the_day_at_the_jump() {
    // America/Santiago moves clocks forward at local midnight (2024-09-08 00:00 → 01:00).
    let tz = chrono_tz::America::Santiago;
    let cal = WorkCalendar::new(tz, []);
    let start = cal.start_of_day(date("2024-09-08"));
    assert_eq!(start, utc("2024-09-08T04:00:00Z"));
    assert_eq!(
        start.with_timezone(&tz).format("%H:%M").to_string(),
        "01:00"
    );
}

// --- database --------------------------------------------------------------------

#[tokio::test]
async fn load_reads_the_holidays_table_into_a_shanghai_calendar() {
    use sea_orm::{ActiveValue::Set, Database, Schema};
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("in-memory sqlite");
    let schema = Schema::new(db.get_database_backend());
    db.execute(&schema.create_table_from_entity(holiday::Entity))
        .await
        .expect("create holidays");
    let row = |d: &str, off: bool| holiday::ActiveModel {
        date: Set(date(d)),
        name: Set("春节".to_owned()),
        is_off_day: Set(off),
    };
    holiday::Entity::insert_many([row("2025-01-28", true), row("2025-02-08", false)])
        .exec_without_returning(&db)
        .await
        .expect("insert holidays");

    let cal = WorkCalendar::load(&db).await.expect("load calendar");
    assert_eq!(cal.time_zone(), Shanghai);
    assert!(!cal.is_working_day(date("2025-01-28")));
    assert!(cal.is_working_day(date("2025-02-08")));
    assert!(cal.is_working_day(date("2025-01-27")));
    assert!(!cal.is_working_day(date("2025-02-09")));
}

// --- properties ------------------------------------------------------------------

proptest! {
    #[test]
    fn every_deadline_ends_a_working_day_at_23_59_59_local(
        secs in 1_514_736_000i64..1_798_732_800i64, // 2018-01-01 .. 2026-12-31 UTC
        n in 1u32..40,
    ) {
        let cal = official();
        let start = DateTime::from_timestamp(secs, 0).expect("in range");
        let deadline = cal.add_working_days(start, n);
        let local = deadline.with_timezone(&Shanghai);
        prop_assert!(cal.is_working_day(local.date_naive()));
        prop_assert_eq!(local.format("%H:%M:%S").to_string(), "23:59:59");
        prop_assert!(deadline > start);
        prop_assert!(cal.add_working_days(start, n + 1) > deadline);
    }

    #[test]
    fn between_the_start_and_its_deadline_lie_n_to_n_plus_one_working_days(
        secs in 1_514_736_000i64..1_798_732_800i64,
        n in 0u32..40,
    ) {
        let cal = official();
        let start = DateTime::from_timestamp(secs, 0).expect("in range");
        let end = cal.add_working_days(start, n) + ONE_SECOND;
        let elapsed = cal.working_days_between(start, end);
        let n = f64::from(n);
        prop_assert!(elapsed >= n - 1e-9 && elapsed <= n + 1.0 + 1e-9, "elapsed {elapsed}");
    }

    #[test]
    fn a_meter_measures_every_span_bit_for_bit_like_the_calendar(
        secs in 1_514_736_000i64..1_798_732_800i64,
        length in 0i64..(40 * 86_400),
        nanos in 0u32..1_000_000_000,
    ) {
        let cal = official();
        let start = DateTime::from_timestamp(secs, nanos).expect("in range");
        let end = start + TimeDelta::seconds(length);
        // A meter made for a range inside the span falls back past its table; one made
        // for the whole span walks the table.
        for meter in [
            cal.meter(start, end),
            cal.meter(start - TimeDelta::days(3), end + TimeDelta::days(3)),
            cal.meter(start + TimeDelta::days(2), start + TimeDelta::days(4)),
        ] {
            let measured = meter.working_days_between(start, end);
            prop_assert_eq!(measured.to_bits(), cal.working_days_between(start, end).to_bits());
        }
    }

    #[test]
    fn clock_hours_in_nanoseconds_are_bit_for_bit_those_of_instants(
        secs in 1_514_736_000i64..1_798_732_800i64,
        length in -86_400i64..(400 * 86_400),
        nanos_a in 0u32..1_000_000_000,
        nanos_b in 0u32..1_000_000_000,
    ) {
        let start = DateTime::from_timestamp(secs, nanos_a).expect("in range");
        let end = DateTime::from_timestamp(secs + length, nanos_b).expect("in range");
        let (s, e) = (super::nanos(start).expect("in range"), super::nanos(end).expect("in range"));
        prop_assert_eq!(
            WorkCalendar::clock_hours_nanos(s, e).to_bits(),
            WorkCalendar::clock_hours(start, end).to_bits()
        );
    }

    #[test]
    fn a_meter_agrees_with_the_calendar_across_midnight_clock_changes(
        secs in 1_514_736_000i64..1_798_732_800i64,
        length in 0i64..(20 * 86_400),
    ) {
        // São Paulo moved its clocks at midnight until 2019: skipped and repeated
        // midnights, 23- and 25-hour days.
        let cal = WorkCalendar::new(chrono_tz::America::Sao_Paulo, []);
        let start = DateTime::from_timestamp(secs, 0).expect("in range");
        let end = start + TimeDelta::seconds(length);
        let meter = cal.meter(start, end);
        prop_assert_eq!(
            meter.working_days_between(start, end).to_bits(),
            cal.working_days_between(start, end).to_bits()
        );
    }
}
