//! Who a viewer's connection speaks for: the caseworker as the hub knows them, made from
//! a store account, and the check a viewer's socket runs again and again to know its
//! caseworker is still signed in. The check is a trait so signaling does not depend on
//! the HTTP layer that implements it with the web session.

use super::hub::Caseworker;
use crate::store::accounts::Account;

/// What the hub is told about a caseworker.
pub fn from_account(account: &Account) -> Caseworker {
    Caseworker {
        login: account.login.clone(),
        who: acote_proto::Requester {
            name: Some(account.display_name.clone()),
            site: account.site.clone(),
        },
    }
}

/// How a caseworker's signaling socket checks that its caseworker is still signed in.
#[async_trait::async_trait]
pub trait SignInCheck: Send + Sync {
    /// Whose sign-in this is.
    fn login(&self) -> &str;

    /// Before a redeem: refuses when in doubt (a redeem is not let through unchecked).
    async fn may_redeem(&self) -> bool;

    /// Now and then, and when a session of this login ended: keeps the socket when in
    /// doubt (a session in progress is not cut for a passing error).
    async fn still_signed_in(&self) -> bool;
}
