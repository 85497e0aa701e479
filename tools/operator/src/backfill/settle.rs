//! Settling decisions against the contact map: what the map already holds wins; a pair is
//! linked with the map's conditional write (as live events link), never over an existing link;
//! in a dry run the map is only read. Contacts the other side lacks are created there with
//! `--create-missing` (see [`super::create`]).

use bridge::contact_map::{ContactLink, LinkOrigin, StoreError};
use futures_util::future::join_all;

use super::contacts::Known;
use super::create;
use super::link::link_once;
use super::matching::{Decision, Match};
use super::outcome::{Outcome, Row};
use super::{BackfillError, Context};

/// A decision settled, or a contact to create on the other side.
enum Step {
    Done(Row),
    CreateInCloudTalk(usize),
    CreateInGhl(usize),
}

/// Settles `chunk` (at most a bulk request's worth), in its order.
pub async fn settle(ctx: &Context<'_>, chunk: &[&Decision]) -> Vec<Result<Row, BackfillError>> {
    let steps = join_all(chunk.iter().map(|d| settle_one(ctx, d))).await;
    let to_cloudtalk: Vec<usize> = steps
        .iter()
        .filter_map(|s| match s {
            Ok(Step::CreateInCloudTalk(g)) => Some(*g),
            _ => None,
        })
        .collect();
    let mut in_cloudtalk = create::in_cloudtalk(ctx, &to_cloudtalk).await.into_iter();
    let to_ghl = steps.iter().filter_map(|s| match s {
        Ok(Step::CreateInGhl(c)) => Some(create::in_ghl(ctx, *c)),
        _ => None,
    });
    let mut in_ghl = join_all(to_ghl).await.into_iter();
    let lost = || Err(BackfillError::Internal("a creation without its result"));
    steps
        .into_iter()
        .map(|step| match step {
            Ok(Step::Done(row)) => Ok(row),
            Ok(Step::CreateInCloudTalk(_)) => in_cloudtalk.next().unwrap_or_else(lost),
            Ok(Step::CreateInGhl(_)) => in_ghl.next().unwrap_or_else(lost),
            Err(e) => Err(e),
        })
        .collect()
}

async fn settle_one(ctx: &Context<'_>, decision: &Decision) -> Result<Step, BackfillError> {
    let (ghl, cloudtalk) = (ctx.ghl, ctx.cloudtalk);
    match decision {
        Decision::Pair {
            ghl: g,
            cloudtalk: c,
            by,
        } => pair(ctx, &ghl[*g], &cloudtalk[*c], by)
            .await
            .map(Step::Done),
        Decision::Ambiguous {
            ghl: g,
            candidates,
            rivals,
            by,
        } => {
            let mut row = Row::new(Outcome::Ambiguous, ctx.dry_run())
                .ghl(ghl[*g].id())
                .matched(by.by, &by.value);
            row.candidates = candidates
                .iter()
                .map(|c| cloudtalk[*c].id().to_string())
                .collect();
            row.ghl_candidates = rivals.iter().map(|r| ghl[*r].id().to_string()).collect();
            let linked = ctx.deps.contacts.find_by_ghl(ctx.location, ghl[*g].id());
            Ok(Step::Done(match linked.await? {
                Some(link) => row.linked_already(&link),
                None => row,
            }))
        }
        Decision::OnlyInGhl { ghl: g } => only_in_ghl(ctx, *g).await,
        Decision::OnlyInCloudTalk { cloudtalk: c } => only_in_cloudtalk(ctx, *c).await,
    }
}

/// Links the pair, unless the map links either contact already.
async fn pair(
    ctx: &Context<'_>,
    ghl: &Known,
    cloudtalk: &Known,
    by: &Match,
) -> Result<Row, BackfillError> {
    let row = Row::new(Outcome::Linked, ctx.dry_run())
        .ghl(ghl.id())
        .cloudtalk(cloudtalk.id())
        .matched(by.by, &by.value);
    let existing = match ctx.dry_run() {
        true => existing_link(ctx, ghl.id(), cloudtalk.id()).await?,
        false => {
            let link = ContactLink::new(
                ctx.location,
                ghl.id(),
                cloudtalk.id(),
                LinkOrigin::GoHighLevel,
            );
            link_once(ctx, &link).await?
        }
    };
    Ok(match existing {
        Some(link) => row.linked_already(&link),
        None => row,
    })
}

/// What the map holds for either contact.
async fn existing_link(
    ctx: &Context<'_>,
    ghl: &str,
    cloudtalk: &str,
) -> Result<Option<ContactLink>, StoreError> {
    let map = &ctx.deps.contacts;
    if let Some(link) = map.find_by_ghl(ctx.location, ghl).await? {
        return Ok(Some(link));
    }
    map.find_by_cloudtalk(ctx.location, cloudtalk).await
}

async fn only_in_ghl(ctx: &Context<'_>, g: usize) -> Result<Step, BackfillError> {
    let contact = &ctx.ghl[g];
    let row = unreadable(
        Row::new(Outcome::OnlyInGhl, ctx.dry_run()).ghl(contact.id()),
        contact,
    );
    let linked = ctx.deps.contacts.find_by_ghl(ctx.location, contact.id());
    if let Some(link) = linked.await? {
        return Ok(Step::Done(row.linked_already(&link)));
    }
    Ok(
        match (ctx.options.create_missing, contact.reach.is_empty()) {
            (true, false) => Step::CreateInCloudTalk(g),
            (true, true) => Step::Done(row.detail("no phone or email: not created")),
            (false, _) => Step::Done(row),
        },
    )
}

async fn only_in_cloudtalk(ctx: &Context<'_>, c: usize) -> Result<Step, BackfillError> {
    let contact = &ctx.cloudtalk[c];
    let row = Row::new(Outcome::OnlyInCloudtalk, ctx.dry_run()).cloudtalk(contact.id());
    let row = unreadable(row, contact);
    let linked = ctx
        .deps
        .contacts
        .find_by_cloudtalk(ctx.location, contact.id());
    if let Some(link) = linked.await? {
        return Ok(Step::Done(row.linked_already(&link)));
    }
    Ok(
        match (ctx.options.create_missing, contact.reach.is_empty()) {
            (true, false) => Step::CreateInGhl(c),
            (true, true) => Step::Done(row.detail("no phone or email: not created")),
            (false, _) => Step::Done(row),
        },
    )
}

/// Names the contact's unreadable phones and emails (masked), which may be why it matched
/// nothing.
fn unreadable(row: Row, contact: &Known) -> Row {
    match contact.reach.skipped.is_empty() {
        true => row,
        false => row.detail(format!("unreadable: {}", contact.reach.skipped.join(", "))),
    }
}
