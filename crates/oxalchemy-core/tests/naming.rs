//! The naming convention's shortened names are part of users' migrations (constraint and
//! index names in files already applied to databases), so they must never change. These
//! names were computed before the hash moved to the `hash32` crate and pin it forever.

use oxalchemy_core::schema::MAX_IDENTIFIER_LEN;
use oxalchemy_core::NamingConvention;

#[test]
fn long_names_are_shortened_to_the_same_names_as_always() {
    let c = NamingConvention::default();
    let cases = [
        (
            c.render(
                &c.index,
                "customer_account_subscription_history",
                &["billing_period_start", "billing_period_end"],
                "",
                "",
            ),
            "ix_customer_account_subscription_history_billing_perio_0effbec3",
        ),
        (
            c.render(
                &c.unique,
                "organisation_membership_invitations",
                &["organisation_id", "invited_email_address"],
                "",
                "",
            ),
            "uq_organisation_membership_invitations_organisation_id_b0211fb9",
        ),
        (
            c.render(
                &c.foreign_key,
                "customer_account_subscription_history",
                &["subscription_plan_identifier"],
                "subscription_plans_catalogue",
                "",
            ),
            "fk_customer_account_subscription_history_subscription__0017f95f",
        ),
        (
            // Multi-byte characters: the cut moves back to a character boundary.
            c.render(
                &c.check,
                "über_lange_tabellenbezeichnung_mit_umlauten_äöü",
                &[],
                "",
                "größe_ist_positiv_und_endlich",
            ),
            "ck_über_lange_tabellenbezeichnung_mit_umlauten_äöü_5cb9d043",
        ),
        (
            c.render(&c.primary_key, &"t".repeat(70), &[], "", ""),
            "pk_ttttttttttttttttttttttttttttttttttttttttttttttttttt_ff9d04a9",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got.as_str(), want);
        assert!(got.as_str().len() <= MAX_IDENTIFIER_LEN);
    }
}

#[test]
fn names_within_the_limit_are_kept_whole() {
    let c = NamingConvention::default();
    let name = c.render(&c.index, "users", &["email", "name"], "", "");
    assert_eq!(name.as_str(), "ix_users_email_name");
    let exactly = "a".repeat(MAX_IDENTIFIER_LEN - "pk_".len());
    let name = c.render(&c.primary_key, &exactly, &[], "", "");
    assert_eq!(name.as_str(), format!("pk_{exactly}"));
}
