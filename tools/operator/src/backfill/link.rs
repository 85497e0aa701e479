//! Writing one link to the contact map, as settling a match and creating a missing contact
//! both do.

use bridge::contact_map::{ContactLink, LinkOutcome, StoreError};

use super::Context;

/// Writes the link; the link that exists instead, if either contact was linked. A write
/// contended by a concurrent one is repeated.
pub async fn link_once(
    ctx: &Context<'_>,
    link: &ContactLink,
) -> Result<Option<ContactLink>, StoreError> {
    let mut attempt = 0;
    loop {
        match ctx.deps.contacts.link(link).await {
            Ok(LinkOutcome::Created) => return Ok(None),
            Ok(LinkOutcome::Existing(existing)) => return Ok(Some(existing)),
            Err(StoreError::Contended(_)) if attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
