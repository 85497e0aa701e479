//! GoHighLevel's tasks on a contact (`contacts.json`, *Tasks*): the callbacks the bridge
//! opens for missed calls and closes when a later call is answered.
//!
//! - `POST /contacts/{contactId}/tasks` (`title`, `body`, `dueDate`, `completed`,
//!   `assignedTo`) → 201 `{"task": {…}}`;
//! - `GET /contacts/{contactId}/tasks` → `{"tasks": […]}`, oldest first;
//! - `GET /contacts/{contactId}/tasks/{taskId}` → `{"task": {…}}`;
//! - `PUT /contacts/{contactId}/tasks/{taskId}` (any of the create fields) → `{"task": {…}}`;
//! - `PUT /contacts/{contactId}/tasks/{taskId}/completed` (`{"completed": bool}`) →
//!   `{"task": {…}}`;
//! - `DELETE /contacts/{contactId}/tasks/{taskId}` → `{"succeded": true}` (GHL's spelling).
//!
//! An unknown contact, or a task that is not the contact's, is a NestJS 404
//! (`{"statusCode": 404, "message": "Contact not found", "error": "Not Found"}`). An empty
//! `title` or a `dueDate` that is no ISO 8601 date is a 422 (class-validator's `IsNotEmpty`,
//! `IsDateString`); what the spec refuses (a missing `completed`, a field it does not declare)
//! is refused before (see `bridge-contracts`). A task's `dueDate` is answered as GHL writes
//! dates, UTC with milliseconds.

use serde_json::{json, Value};

use super::api::{text, Call, Outcome, Reply};
use super::ghl_common::unprocessable;
use super::state::{millis_iso, of_contact, Task};

/// GHL's 404 for an unknown contact or task.
fn not_found(what: &str) -> Reply {
    (
        404,
        json!({"statusCode": 404, "message": format!("{what} not found"), "error": "Not Found"}),
    )
}

/// The path's contact, which must exist.
fn contact(call: &Call) -> Result<String, Reply> {
    let id = call.param("id");
    match call.state.ghl_contacts.contains_key(&id) {
        true => Ok(id),
        false => Err(not_found("Contact")),
    }
}

/// The index of the path's task among the state's, which must be the path contact's.
fn task_index(call: &Call) -> Result<usize, Reply> {
    let contact = contact(call)?;
    let task = call.param("task");
    call.state
        .ghl_tasks
        .iter()
        .position(|t| t.id == task && t.contact_id == contact)
        .ok_or_else(|| not_found("Task"))
}

/// A `dueDate` as GHL stores it; 422 when it is no ISO 8601 date (class-validator's
/// `IsDateString` takes a date, a date and time, with or without an offset; without one it is
/// read as UTC).
fn due_date(value: &Value) -> Result<String, Reply> {
    let parsed = value.as_str().map(str::trim).and_then(|d| {
        let utc = |t: chrono::NaiveDateTime| t.and_utc().timestamp_millis();
        chrono::DateTime::parse_from_rfc3339(d)
            .map(|t| t.timestamp_millis())
            .ok()
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(utc)
            })
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .ok()
                    .and_then(|day| day.and_hms_opt(0, 0, 0))
                    .map(utc)
            })
    });
    match parsed {
        Some(ms) => Ok(millis_iso(ms)),
        None => Err(unprocessable(&[
            "dueDate must be a valid ISO 8601 date string",
        ])),
    }
}

fn title(value: &Value) -> Result<String, Reply> {
    text(Some(value)).ok_or_else(|| unprocessable(&["title should not be empty"]))
}

/// Applies the fields of a create or update body that are there.
fn apply(task: &mut Task, data: &Value) -> Result<(), Reply> {
    if let Some(t) = data.get("title") {
        task.title = title(t)?;
    }
    if let Some(d) = data.get("dueDate") {
        task.due_date = due_date(d)?;
    }
    if let Some(b) = data.get("body") {
        task.body = text(Some(b));
    }
    if let Some(a) = data.get("assignedTo") {
        task.assigned_to = text(Some(a));
    }
    if let Some(c) = data.get("completed").and_then(Value::as_bool) {
        task.completed = c;
    }
    Ok(())
}

pub(crate) fn create(call: &mut Call) -> Outcome {
    let contact_id = contact(call)?;
    let mut task = Task {
        id: String::new(),
        title: title(call.data.get("title").unwrap_or(&Value::Null))?,
        body: None,
        assigned_to: None,
        due_date: due_date(call.data.get("dueDate").unwrap_or(&Value::Null))?,
        completed: false,
        contact_id,
    };
    apply(&mut task, &call.data)?;
    task.id = call.state.ghl_id("task");
    call.say(format!(
        "GHL ← task \"{}\" on {} due {}{}",
        task.title,
        task.contact_id,
        task.due_date,
        task.assigned_to
            .as_deref()
            .map(|u| format!(" for {u}"))
            .unwrap_or_default()
    ));
    call.state.ghl_tasks.push(task.clone());
    Ok((201, json!({ "task": task })))
}

pub(crate) fn list(call: &mut Call) -> Outcome {
    let contact_id = contact(call)?;
    let tasks: Vec<&Task> = of_contact(&call.state.ghl_tasks, &contact_id);
    Ok((200, json!({ "tasks": tasks })))
}

pub(crate) fn get(call: &mut Call) -> Outcome {
    let index = task_index(call)?;
    Ok((200, json!({ "task": call.state.ghl_tasks[index] })))
}

pub(crate) fn update(call: &mut Call) -> Outcome {
    let index = task_index(call)?;
    let mut task = call.state.ghl_tasks[index].clone();
    apply(&mut task, &call.data)?;
    call.say(format!(
        "GHL ← update task {} on {}",
        task.id, task.contact_id
    ));
    call.state.ghl_tasks[index] = task.clone();
    Ok((200, json!({ "task": task })))
}

pub(crate) fn set_completed(call: &mut Call) -> Outcome {
    let index = task_index(call)?;
    let completed = call.data.get("completed").and_then(Value::as_bool);
    let Some(completed) = completed else {
        return Err(unprocessable(&["completed must be a boolean value"]));
    };
    let task = &mut call.state.ghl_tasks[index];
    task.completed = completed;
    let task = task.clone();
    let done = if completed { "completed" } else { "reopened" };
    call.say(format!(
        "GHL ← task {} on {} {done}",
        task.id, task.contact_id
    ));
    Ok((200, json!({ "task": task })))
}

pub(crate) fn delete(call: &mut Call) -> Outcome {
    let index = task_index(call)?;
    let task = call.state.ghl_tasks.remove(index);
    call.say(format!(
        "GHL ← delete task {} on {}",
        task.id, task.contact_id
    ));
    Ok((200, json!({"succeded": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_iso_8601_and_answered_in_utc_with_milliseconds() {
        assert_eq!(
            due_date(&json!("2026-12-01T10:00:00+01:00")).unwrap(),
            "2026-12-01T09:00:00.000Z"
        );
        assert_eq!(
            due_date(&json!("2026-12-01T09:00:00Z")).unwrap(),
            "2026-12-01T09:00:00.000Z"
        );
        assert_eq!(
            due_date(&json!("2026-12-01")).unwrap(),
            "2026-12-01T00:00:00.000Z"
        );
        for bad in [
            json!("tomorrow"),
            json!("01/12/2026"),
            json!(1),
            Value::Null,
        ] {
            assert_eq!(due_date(&bad).unwrap_err().0, 422, "{bad}");
        }
    }
}
