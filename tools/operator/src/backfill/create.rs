//! `--create-missing`: the other side's contact is created the way the bridge creates it for
//! a live event, then linked.
//!
//! - In CloudTalk, for a GHL contact: `POST /bulk/contacts.json` with up to 10 `add_contact`
//!   commands, each built by [`cloudtalk_contact`] (name, phones, emails, tags, company, the link
//!   back to GHL) and checked by its own result; linked with origin GoHighLevel.
//! - In GoHighLevel, for a CloudTalk contact: `POST /contacts/upsert` with `source`
//!   "CloudTalk" ([`ghl_contact`]); linked with origin CloudTalk, so that the contact-created
//!   webhook GHL then sends is recognised as an echo. An upsert that matched an existing GHL
//!   contact links that one (`linked`).
//!
//! A refusal (a number CloudTalk rejects, say) leaves the contact one-sided, with the masked
//! reason in the row. In a dry run nothing is sent.

use bridge::clients::cloudtalk::{bulk_result, BulkCommand};
use bridge::contact_map::{ContactLink, LinkOrigin};
use bridge::mapping::cloudtalk_to_ghl::ghl_contact;
use bridge::mapping::ghl_to_cloudtalk::{cloudtalk_contact, ghl_contact_url};

use super::contacts::Known;
use super::link::link_once;
use super::outcome::{Outcome, Row};
use super::{BackfillError, Context};

/// The most commands a bulk request takes.
pub const BULK_MAX: usize = 10;

/// Creates the CloudTalk contacts of these GHL contacts (by index); a row for each, in order.
pub async fn in_cloudtalk(ctx: &Context<'_>, ghl: &[usize]) -> Vec<Result<Row, BackfillError>> {
    let mut rows = Vec::with_capacity(ghl.len());
    for batch in ghl.chunks(BULK_MAX) {
        let contacts: Vec<&Known> = batch.iter().map(|g| &ctx.ghl[*g]).collect();
        rows.extend(bulk_create(ctx, &contacts).await);
    }
    rows
}

fn command_id(contact: &Known) -> String {
    format!("backfill_{}", contact.id())
}

async fn bulk_create(ctx: &Context<'_>, contacts: &[&Known]) -> Vec<Result<Row, BackfillError>> {
    let created = |c: &Known| Row::new(Outcome::CreatedInCloudtalk, ctx.dry_run()).ghl(c.id());
    if ctx.dry_run() {
        return contacts.iter().map(|c| Ok(created(c))).collect();
    }
    let commands: Vec<BulkCommand> = contacts.iter().map(|c| add_command(ctx, c)).collect();
    let answer = ctx
        .patience()
        .call(|| ctx.deps.cloudtalk.bulk(&commands))
        .await;
    let results = match answer {
        Ok(results) => results,
        Err(e) => {
            let failure = BackfillError::upstream("creating CloudTalk contacts", e);
            return contacts.iter().map(|_| Err(failure.clone())).collect();
        }
    };
    let mut rows = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let result = bulk_result(&results, &command_id(contact));
        let row = match result {
            Some(r) if r.succeeded() && r.id.is_some() => {
                let id = r.id.clone().unwrap_or_default();
                let link =
                    ContactLink::new(ctx.location, contact.id(), &id, LinkOrigin::GoHighLevel);
                linked_after_creation(ctx, created(contact).cloudtalk(&id), &link).await
            }
            Some(r) => Ok(refused(
                ctx,
                Outcome::OnlyInGhl,
                contact,
                r.message.as_deref(),
            )),
            None => Ok(refused(
                ctx,
                Outcome::OnlyInGhl,
                contact,
                Some("no result for its command"),
            )),
        };
        rows.push(row);
    }
    rows
}

fn add_command(ctx: &Context<'_>, contact: &Known) -> BulkCommand {
    let app_base = &ctx.deps.config.ghl_app_base;
    let link_back = ghl_contact_url(app_base, ctx.location, contact.id());
    let source = contact.as_ghl_contact();
    let input = cloudtalk_contact(&source, &contact.reach, &source.tags, Some(link_back));
    BulkCommand {
        action: "add_contact",
        command_id: command_id(contact),
        data: serde_json::to_value(&input).unwrap_or_default(),
    }
}

/// Creates (or finds, by GHL's own upsert matching) the GHL contact of a CloudTalk contact.
pub async fn in_ghl(ctx: &Context<'_>, cloudtalk: usize) -> Result<Row, BackfillError> {
    let contact = &ctx.cloudtalk[cloudtalk];
    let row = Row::new(Outcome::CreatedInGhl, ctx.dry_run()).cloudtalk(contact.id());
    if ctx.dry_run() {
        return Ok(row);
    }
    let reach = &contact.reach;
    let input = ghl_contact(
        ctx.location,
        contact.record.name.as_deref(),
        reach.phones.first().map(String::as_str),
        reach.emails.first().map(String::as_str),
        contact.record.company.as_deref(),
    );
    let (id, new) = match ctx
        .patience()
        .call(|| ctx.deps.ghl.upsert_contact(&input))
        .await
    {
        Ok(created) => created,
        Err(e) if e.is_retryable() => {
            return Err(BackfillError::upstream("creating GHL contacts", e))
        }
        Err(e) => {
            return Ok(refused(
                ctx,
                Outcome::OnlyInCloudtalk,
                contact,
                Some(&e.to_string()),
            ))
        }
    };
    let row = match new {
        true => row.ghl(&id),
        false => {
            let mut row = row
                .ghl(&id)
                .detail("GHL's upsert matched this existing contact");
            row.outcome = Outcome::Linked;
            row
        }
    };
    let link = ContactLink::new(ctx.location, &id, contact.id(), LinkOrigin::CloudTalk);
    linked_after_creation(ctx, row, &link).await
}

async fn linked_after_creation(
    ctx: &Context<'_>,
    row: Row,
    link: &ContactLink,
) -> Result<Row, BackfillError> {
    Ok(match link_once(ctx, link).await? {
        None => row,
        Some(existing) => {
            let created = match row.outcome {
                Outcome::CreatedInCloudtalk => row.cloudtalk_id.clone(),
                _ => row.ghl_id.clone(),
            };
            let row = row.linked_already(&existing);
            let why = row.detail.clone().unwrap_or_default();
            let created = created.unwrap_or_default();
            row.detail(format!(
                "{why}; {created} was created meanwhile and is not linked"
            ))
        }
    })
}

/// The contact stays one-sided; the upstream's reason (masked by the client) is in the row.
fn refused(ctx: &Context<'_>, outcome: Outcome, contact: &Known, why: Option<&str>) -> Row {
    let row = Row::new(outcome, ctx.dry_run());
    let row = match outcome {
        Outcome::OnlyInGhl => row.ghl(contact.id()),
        _ => row.cloudtalk(contact.id()),
    };
    row.detail(format!("not created: {}", why.unwrap_or("refused")))
}
