//! Where a vendor's spec is known to be wrong or silent, and what the real API does instead:
//! each entry with its evidence (a real capture in the project's reference notes, or the
//! vendor's own documentation). Nothing passes the check unless an entry here names it.
//!
//! | Vendor | Operation | The spec says | The real API | Evidence |
//! |---|---|---|---|---|
//! | GoHighLevel | every operation | a union or `any` property as `{"type": "object"}` with a scalar example (`NumericField.field_value`, `ProcessMessageBodyDto.direction`) | takes the scalar (a number for a numeric custom field, `"outbound"` for a message's direction) | the spec's own examples and descriptions of those properties (see `untyped_values`) |
//! | CloudTalk | every answer | `responseData.status`, a bulk item's `status`: a string | numbers (`"status": 200`, `201`) | `cloudtalk-api.md` §4 (bulk answer) and §5 (addTags answer), CloudTalk's own documented answers |
//! | GoHighLevel | `GET /opportunities/pipelines` | `stages`: an array of arrays | an array of `{id, name, position, …}` | `gohighlevel-api.md`, *Pipelines & stages* |
//! | GoHighLevel | `POST /contacts/search` | an empty body schema | takes locationId, page, pageLimit, searchAfter, query, filters, sort | `gohighlevel-api.md`, *Search* (community usage, marked [I] there); see [`PATCHES`] |
//! | CloudTalk | `POST /bulk/contacts.json` | a command's `data` is `oneOf` overlapping shapes | accepts each shape its `action` names | the spec itself: its own example fails its `oneOf` (see [`PATCHES`]) |
//! | CloudTalk | `GET /ai/calls/{callId}/smart-notes` | `CallDetailsNote` lists `required` among its `properties`, so the schema does not compile | requires `callDateTime` and `participants` | the spec itself: a property named `required` holding an array is a misplaced keyword (see [`PATCHES`]) |
//! | GoHighLevel | `POST /oauth/reconnect` | nothing (not in `oauth.json`) | takes `clientKey`, `clientSecret` and `locationId` or `companyId`, answers `{authorizationCode, expiresAt}` | GHL's marketplace docs, quoted in `ghl-marketplace-oauth-and-calls.md` ("Recovery without asking the user again [C]") |
//! | CloudTalk | `POST /sms/send.json` | the 200 answer is `{success, data}` with `data` an object | `{"responseData": {"success", "data"}}`, `data` the text sent or, when `success` is false, the provider's reason as a string | the spec itself: its example of this answer and its description ("data contains error message"); see [`PATCHES`] |

use serde_json::{json, Value};

use super::Vendor;

/// Corrections of a spec's schemas where the spec contradicts itself or the real API, made
/// when the specs load: (vendor, file, JSON pointer, what is changed, evidence).
const PATCHES: &[(Vendor, &str, &str, Patch, &str)] = &[
    (
        Vendor::CloudTalk,
        "cloudtalk/openapi.json",
        "/paths/~1bulk~1contacts.json/post/requestBody/content/application~1json/schema/items/properties/data",
        Patch::OneOfAsAnyOf,
        "The alternatives of a bulk command's `data` overlap (an `add contact` object is also \
         a valid `delete contact/note/activity` object, whose one property is optional), so \
         under `oneOf` no command could pass, not even the spec's own example of this \
         operation (an `add_contact` command). CloudTalk's bulk endpoint picks the shape by \
         `action`; `anyOf` is the closest reading.",
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/contacts.json",
        "/components/schemas/SearchBodyV2DTO",
        Patch::Replace(search_body),
        "GHL's spec leaves the search body empty (`properties: {}`; its docs link elsewhere). \
         The fields are the ones the community documents and our reference notes record \
         (`gohighlevel-api.md`, *Search*): locationId, page, pageLimit, searchAfter, query, \
         filters, sort. Any other field is refused, as NestJS refuses undeclared ones.",
    ),
    (
        Vendor::CloudTalk,
        "cloudtalk/openapi.json",
        "/components/schemas/StatusCode/properties/status",
        Patch::Replace(status_number),
        "The spec types `responseData.status` (and each bulk item's `status`) as a string; \
         CloudTalk's documented answers carry numbers: `{\"responseData\":{\"status\":200, \
         \"data\":[{\"command_id\":\"123\",\"status\":201,...}]}}` (bulk, \
         `cloudtalk-api.md` §4) and `{\"responseData\":{\"status\":200,\"message\":\"Tags \
         were sucessfully added.\"...}}` (§5). The captures win: a number, or a string.",
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/opportunities.json",
        "/components/schemas/PipelinesResponseSchema/properties/stages/items",
        Patch::Replace(stage),
        "The spec types each pipeline's `stages` as an array of arrays; GHL answers objects \
         `{id, name, position, ...}` (`gohighlevel-api.md`, *Pipelines & stages*: \"The spec \
         types `stages` wrongly\", many community clients).",
    ),
    (
        Vendor::CloudTalk,
        "cloudtalk/openapi.json",
        "/components/schemas/CallDetailsNote",
        Patch::RequiredOutOfProperties,
        "The spec writes `CallDetailsNote`'s `required: [\"callDateTime\", \"participants\"]` \
         inside `properties`, where it reads as a property whose schema is an array: no \
         validator compiles it, so no smart-notes answer could be checked. The keyword is \
         moved up to the object, which is what the spec means.",
    ),
    (
        Vendor::CloudTalk,
        "cloudtalk/openapi.json",
        "/paths/~1sms~1send.json/post/responses/200/content/application~1json/schema",
        Patch::Replace(sms_answer),
        "The spec's schema of `POST /sms/send.json`'s 200 has `success` and `data` at the top, \
         `data` an object; its own example wraps them in `responseData` (as every CloudTalk \
         answer is), and its description says that when `success` is false `data` holds the \
         provider's error message (`SMS send failed`, `Unknown number`, ...), a string. The \
         example and the description win.",
    ),
];

/// `POST /sms/send.json`'s 200 as the spec's example and description give it (see
/// [`PATCHES`]): the text sent, or the provider's reason.
fn sms_answer() -> Value {
    json!({"type": "object", "required": ["responseData"], "properties": {
        "responseData": {"type": "object", "required": ["success", "data"], "properties": {
            "success": {"type": "boolean"},
            "data": {"type": ["object", "string"], "properties": {
                "recipient": {"type": "string"}, "message": {"type": "string"},
                "sender": {"type": "string"}, "country_code": {"type": "string"}}}
        }}
    }})
}

/// A CloudTalk status code as its documented answers carry it (see [`PATCHES`]).
fn status_number() -> Value {
    json!({"type": ["integer", "string"]})
}

/// A pipeline stage as GHL answers it (see [`PATCHES`]).
fn stage() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}})
}

#[derive(Debug, Clone, Copy)]
enum Patch {
    /// `oneOf` read as `anyOf`.
    OneOfAsAnyOf,
    /// The schema replaced by this one.
    Replace(fn() -> Value),
    /// A `required` list written among the `properties` moved up to the object.
    RequiredOutOfProperties,
}

/// `POST /contacts/search`'s body as documented outside GHL's spec (see [`PATCHES`]).
fn search_body() -> Value {
    let filter = json!({"type": "object", "properties": {
        "field": {"type": "string"}, "operator": {"type": "string"}, "value": {},
        "group": {"type": "string", "enum": ["AND", "OR"]}, "filters": {"type": "array"}}});
    json!({"type": "object", "required": ["locationId"], "properties": {
        "locationId": {"type": "string"},
        "page": {"type": "integer"},
        "pageLimit": {"type": "integer", "maximum": 500},
        "searchAfter": {"type": "array"},
        "query": {"type": "string"},
        "filters": {"type": "array", "items": filter},
        "sort": {"type": "array", "items": {"type": "object", "required": ["field", "direction"],
            "properties": {"field": {"type": "string"},
                "direction": {"type": "string", "enum": ["asc", "desc"]}}}}
    }})
}

/// Applies the [`PATCHES`] of one spec file, and GoHighLevel's untyped-values rule.
pub(crate) fn patch(vendor: Vendor, file: &str, doc: &mut Value) {
    for (v, f, pointer, patch, _evidence) in PATCHES {
        if *v != vendor || *f != file {
            continue;
        }
        let Some(node) = doc.pointer_mut(pointer) else {
            panic!("contracts: the patched schema {file}#{pointer} is not in the spec any more");
        };
        match patch {
            Patch::OneOfAsAnyOf => {
                if let Some(object) = node.as_object_mut() {
                    if let Some(alternatives) = object.remove("oneOf") {
                        object.insert("anyOf".into(), alternatives);
                    }
                }
            }
            Patch::Replace(schema) => *node = schema(),
            Patch::RequiredOutOfProperties => {
                let misplaced = node
                    .get_mut("properties")
                    .and_then(Value::as_object_mut)
                    .and_then(|properties| properties.remove("required"));
                if let (Some(required), Some(object)) = (misplaced, node.as_object_mut()) {
                    object.insert("required".into(), required);
                }
            }
        }
    }
    if vendor == Vendor::GoHighLevel {
        untyped_values(doc);
    }
}

/// GHL's specs are generated from NestJS DTOs, and a property whose TypeScript type is a union
/// or `any` comes out as `{"type": "object"}` with a scalar example: `NumericField.field_value`
/// (`"type": "object", "example": 100`), `ProcessMessageBodyDto.direction` (`"type":
/// "object"`, described as "default is outbound", example `["outbound", "inbound"]`). Such a
/// schema (type object, no properties, an example that is not an object) is read as "any
/// value". Objects with properties, and every other type, keep their types.
fn untyped_values(node: &mut Value) {
    match node {
        Value::Object(object) => {
            let untyped = object.get("type") == Some(&json!("object"))
                && !object.contains_key("properties")
                && !object.contains_key("additionalProperties")
                && object.get("example").is_some_and(|e| !e.is_object());
            if untyped {
                object.remove("type");
            }
            for (_, child) in object.iter_mut() {
                untyped_values(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(untyped_values),
        _ => {}
    }
}

/// Operations a spec leaves out, as OpenAPI documents of their own: (vendor, file name, doc).
pub(crate) fn extra_operations() -> Vec<(Vendor, &'static str, Value)> {
    let credentials = json!({
        "type": "object",
        "required": ["clientKey", "clientSecret"],
        "properties": {
            "clientKey": {"type": "string"},
            "clientSecret": {"type": "string"},
            "locationId": {"type": "string"},
            "companyId": {"type": "string"}
        }
    });
    vec![(
        Vendor::GoHighLevel,
        "overrides/oauth-reconnect.json",
        json!({
            "openapi": "3.0.0",
            "paths": {"/oauth/reconnect": {"post": {
                "requestBody": {"required": true, "content": {
                    "application/x-www-form-urlencoded": {"schema": credentials.clone()},
                    "application/json": {"schema": credentials}
                }},
                "responses": {"200": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["authorizationCode"],
                    "properties": {
                        "authorizationCode": {"type": "string"},
                        "expiresAt": {}
                    }
                }}}}}
            }}}
        }),
    )]
}

/// A query parameter the spec does not declare that the real API takes.
pub(crate) fn undeclared_query_allowed(
    _vendor: Vendor,
    _method: &str,
    _template: &str,
    _name: &str,
) -> bool {
    false
}

/// A request problem the real API does not have (the spec is stricter than the API).
pub(crate) fn problem_accepted(
    _vendor: Vendor,
    _method: &str,
    _template: &str,
    _problem: &str,
) -> bool {
    false
}

/// An answer that differs from the spec the way the real API's does (the captures win).
pub(crate) fn answer_accepted(
    _vendor: Vendor,
    _method: &str,
    _template: &str,
    _problem: &str,
) -> bool {
    false
}
