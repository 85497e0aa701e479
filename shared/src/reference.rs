//! The configuration reference: every environment variable, stack parameter and tenant option,
//! with its default and meaning, in one table. The manual's configuration chapter is rendered
//! from it ([`settings_markdown`]), and `shared/tests/reference.rs` fails when the code, the
//! template or the docs name a setting this table does not (or the other way round).

/// One setting (a row may name a few variables that go together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The environment variables it is read from (none: a stack parameter only).
    pub variables: &'static [&'static str],
    /// When it must be set.
    pub required: &'static str,
    /// Its default, as the docs show it.
    pub default: &'static str,
    /// The stack parameters (`template.yaml`) that set it.
    pub parameters: &'static [&'static str],
    /// The `bridge tenants set-options` flags that give a tenant its own value.
    pub tenant_flags: &'static [&'static str],
    pub meaning: &'static str,
}

/// Every setting, in the order the docs list them.
#[rustfmt::skip]
pub static SETTINGS: &[Setting] = &[
    Setting {
        variables: &["CLOUDTALK_API_BASE"],
        required: "no",
        default: "`https://my.cloudtalk.io/api`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudTalk API base URL.",
    },
    Setting {
        variables: &["CLOUDTALK_API_KEY_ID"],
        required: "yes",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudTalk API access key id (secret).",
    },
    Setting {
        variables: &["CLOUDTALK_API_KEY_SECRET"],
        required: "yes",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudTalk API access key secret (secret).",
    },
    Setting {
        variables: &["GHL_API_BASE"],
        required: "no",
        default: "`https://services.leadconnectorhq.com`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "GoHighLevel API base URL.",
    },
    Setting {
        variables: &["GHL_API_TOKEN"],
        required: "for CloudTalk → GHL",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "GHL Private Integration Token or location token (secret), with the scopes contacts, opportunities and locations/customValues (read and write).",
    },
    Setting {
        variables: &["GHL_LOCATION_ID"],
        required: "for GHL routes",
        default: "–",
        parameters: &["GhlLocationId"],
        tenant_flags: &[],
        meaning: "The GHL location (sub-account) this deployment serves; part of every contact map key. Signed events for any other location, and workflow bodies naming another one, are refused (403 `foreign_location`); without it no signed event is accepted, and workflow events use their own `locationId`.",
    },
    Setting {
        variables: &["GHL_APP_ID"],
        required: "no",
        default: "–",
        parameters: &["GhlAppId"],
        tenant_flags: &[],
        meaning: "The GHL Marketplace app id; when set, a signed event whose `appId` names another app is refused (403 `foreign_app`).",
    },
    Setting {
        variables: &["GHL_APP_BASE"],
        required: "no",
        default: "`https://app.gohighlevel.com`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Base of the \"open in GoHighLevel\" link written on CloudTalk contacts (white-label domains differ).",
    },
    Setting {
        variables: &["GHL_WEBHOOK_SECRET"],
        required: "for workflow webhooks",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Shared secret GHL workflow webhooks must present (secret). Two values separated by a comma are both accepted during a rotation. Marketplace webhooks are verified by signature instead.",
    },
    Setting {
        variables: &["GHL_WEBHOOK_PUBLIC_KEY", "GHL_WEBHOOK_RSA_PUBLIC_KEY"],
        required: "no",
        default: "GHL's published keys",
        parameters: &[],
        tenant_flags: &[],
        meaning: "PEM overrides of the keys that verify `x-ghl-signature` and `x-wh-signature` (`\\n` escapes allowed).",
    },
    Setting {
        variables: &["BRIDGE_LOCAL_INSECURE_NO_AUTH"],
        required: "no",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "`true` opens routes with no credential configured, for local experiments only; read from the process environment only. In Lambda a function with it set refuses to start.",
    },
    Setting {
        variables: &["CLOUDTALK_WEBHOOK_SECRET"],
        required: "for CloudTalk → GHL",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Shared secret CloudTalk webhooks must present (secret); comma for rotation.",
    },
    Setting {
        variables: &["DEFAULT_PHONE_REGION"],
        required: "recommended",
        default: "–",
        parameters: &["DefaultPhoneRegion"],
        tenant_flags: &["--phone-region"],
        meaning: "ISO 3166 alpha-2 region for national numbers, e.g. `IT`.",
    },
    Setting {
        variables: &["CONTACT_MAP_TABLE"],
        required: "in AWS",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "DynamoDB table of the contact map (the template sets it). Without it links are kept in the local store file (`LOCAL_STORE_PATH`), shared by every local process and kept across restarts.",
    },
    Setting {
        variables: &["STATE_TABLE"],
        required: "in AWS",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "DynamoDB table of idempotency records, agent statuses and generic payloads (the template sets it). Without it they are kept in the local store file.",
    },
    Setting {
        variables: &["RETRY_QUEUE_URL", "DEAD_LETTER_QUEUE_URL"],
        required: "in AWS",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "SQS queues for retries and parked events (the template sets them). Without them an event that cannot be applied now is answered 429.",
    },
    Setting {
        variables: &["RETRY_MAX_ATTEMPTS"],
        required: "no",
        default: "`8`",
        parameters: &["RetryMaxAttempts"],
        tenant_flags: &[],
        meaning: "Failed attempts before an event is parked (rate limits use none).",
    },
    Setting {
        variables: &["RECONCILE_OVERLAP_SECS"],
        required: "no",
        default: "`900`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Each reconciliation run re-reads this much before its checkpoint.",
    },
    Setting {
        variables: &["RECONCILE_LOOKBACK_HOURS"],
        required: "no",
        default: "`24`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "How far back reconciliation's first run reads.",
    },
    Setting {
        variables: &["CLOUDTALK_UTC_OFFSET"],
        required: "no",
        default: "UTC",
        parameters: &["CloudTalkUtcOffset"],
        tenant_flags: &[],
        meaning: "The CloudTalk company's offset from UTC (`+01:00`, `-05:00`), in which its call history gives times (`CloudTalkUtcOffset`).",
    },
    Setting {
        variables: &["GHL_SEARCH_DATE_FORMAT"],
        required: "no",
        default: "`iso`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "How GHL's contact search takes a time: `iso` (ISO 8601) or `epoch_ms`.",
    },
    Setting {
        variables: &["BODY_KEY_TTL_SECS"],
        required: "no",
        default: "`7200`",
        parameters: &["BodyKeyTtlSeconds"],
        tenant_flags: &[],
        meaning: "How long an applied event without a delivery id (keyed by a hash of its body) answers an identical body as a duplicate; after it the same body is a new event. Delivery-id keys are kept 21 days from the last attempt.",
    },
    Setting {
        variables: &["UPSTREAM_RETRY_BUDGET_MS"],
        required: "no",
        default: "`6000`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Time one upstream call may spend retrying before the event is queued.",
    },
    Setting {
        variables: &["REQUEST_DEADLINE_MS"],
        required: "no",
        default: "`10000`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "A webhook is answered within this (applied, or queued); every upstream wait is bounded by it.",
    },
    Setting {
        variables: &["CLOUDTALK_RATE_PER_MIN"],
        required: "no",
        default: "`50`",
        parameters: &["CloudTalkRatePerMinute"],
        tenant_flags: &[],
        meaning: "CloudTalk calls per minute for the whole deployment, per account (CloudTalk allows 60).",
    },
    Setting {
        variables: &["GHL_RATE_PER_10S"],
        required: "no",
        default: "`100`",
        parameters: &["GhlRatePer10Seconds"],
        tenant_flags: &[],
        meaning: "GoHighLevel calls per 10 s for the whole deployment, per location.",
    },
    Setting {
        variables: &["LOCAL_STORE_PATH"],
        required: "no",
        default: "`.local/bridge-store.json`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "The embedded store file used when the tables are not set.",
    },
    Setting {
        variables: &["MISSED_CALL_TAG"],
        required: "no",
        default: "`CloudTalk missed call`",
        parameters: &["MissedCallTag"],
        tenant_flags: &["--missed-call-tag"],
        meaning: "Tag added to the GHL contact for a missed call.",
    },
    Setting {
        variables: &["GHL_FIELD_LAST_CALL_DATE", "GHL_FIELD_LAST_CALL_OUTCOME", "GHL_FIELD_LAST_CALL_DURATION"],
        required: "no",
        default: "–",
        parameters: &["LastCallDateFieldId", "LastCallOutcomeFieldId", "LastCallDurationFieldId"],
        tenant_flags: &["--last-call-date-field", "--last-call-outcome-field", "--last-call-duration-field"],
        meaning: "GHL contact custom field ids; when set, every ended call writes the date, outcome and duration (seconds) there.",
    },
    Setting {
        variables: &["CAMPAIGN_STAGE_MAP"],
        required: "for endpoint 11",
        default: "–",
        parameters: &["CampaignStageMap"],
        tenant_flags: &["--campaign-stage-map"],
        meaning: "JSON: campaign status → `{\"pipelineId\", \"stageId\"}`, or campaign name → status → stage, e.g. `{\"completed\": {\"pipelineId\": \"p1\", \"stageId\": \"s9\"}, \"Spring promo\": {\"completed\": {\"pipelineId\": \"p2\", \"stageId\": \"s3\"}}}`. A per-campaign rule wins; a status without a rule writes nothing (`\"result\": \"no_rule\"`).",
    },
    Setting {
        variables: &["GENERIC_RETENTION_DAYS"],
        required: "no",
        default: "`14`",
        parameters: &["GenericRetentionDays"],
        tenant_flags: &[],
        meaning: "Days a generic payload is kept.",
    },
    Setting {
        variables: &["UPSTREAM_TIMEOUT_MS"],
        required: "no",
        default: "`8000`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Timeout of each upstream call.",
    },
    Setting {
        variables: &["BRIDGE_SECRETS_ARN"],
        required: "in AWS",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Secrets Manager secret holding the secrets above (the template sets it). When set and unreadable, the function refuses to start.",
    },
    Setting {
        variables: &["BRIDGE_SECRETS_TTL_SECS"],
        required: "no",
        default: "`300`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "How long values read from the secret are used before it is read again.",
    },
    Setting {
        variables: &["AWS_ENDPOINT_URL", "AWS_REGION"],
        required: "with a table",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "What Lambda sets: `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; point `AWS_ENDPOINT_URL` at a local DynamoDB-compatible server. The functions read only these (no profile files, SSO or IMDS): to run one locally against AWS, export a profile's credentials first, `eval \"$(aws configure export-credentials --format env)\"`. The backfill keeps the SDK's full chain (`AWS_PROFILE`, SSO).",
    },
    Setting {
        variables: &["TENANTS_TABLE"],
        required: "agency mode",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "DynamoDB table of the tenant registry (the template sets it). Locally, without it, tenants are kept in the store file.",
    },
    Setting {
        variables: &["TENANT_SEAL_KEY"],
        required: "agency mode",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "The key the tenants' secrets are sealed with (secret; in the stack's secret). Without it in Lambda the registry is off and only the deployment's own location is served.",
    },
    Setting {
        variables: &["GHL_APP_CLIENT_ID", "GHL_APP_CLIENT_SECRET"],
        required: "for app installs",
        default: "–",
        parameters: &["GhlAppClientId"],
        tenant_flags: &[],
        meaning: "The Marketplace app's OAuth client (`GhlAppClientId`; the secret in the stack's secret).",
    },
    Setting {
        variables: &["GHL_OAUTH_REDIRECT_URI"],
        required: "for app installs",
        default: "–",
        parameters: &["GhlOAuthRedirectUri"],
        tenant_flags: &[],
        meaning: "The app's redirect URL, `<ApiUrl>/oauth/callback` (`GhlOAuthRedirectUri`).",
    },
    Setting {
        variables: &["GHL_CALL_PROVIDER_ID"],
        required: "no",
        default: "–",
        parameters: &["GhlCallProviderId"],
        tenant_flags: &["--call-provider"],
        meaning: "The app's Call conversation provider: when set, the default tenant's calls become Call entries in GHL Conversations instead of notes (`GhlCallProviderId`).",
    },
    Setting {
        variables: &["AGENT_MAP"],
        required: "no",
        default: "–",
        parameters: &["AgentMap"],
        tenant_flags: &["--agent-map"],
        meaning: "JSON, CloudTalk agent id → GHL user id (`{\"493933\": \"<user id>\"}`): wins over the match by email (`AgentMap`; a tenant's `--agent-map`).",
    },
    Setting {
        variables: &["ASSIGN_CONTACT_OWNER"],
        required: "no",
        default: "`true`",
        parameters: &["AssignContactOwner"],
        tenant_flags: &["--assign-owner"],
        meaning: "A GHL contact the bridge creates for a call is owned by the agent's user; an owner a contact has is never replaced (`AssignContactOwner`).",
    },
    Setting {
        variables: &["MISSED_CALL_TASKS"],
        required: "no",
        default: "`true`",
        parameters: &["MissedCallTasks"],
        tenant_flags: &["--missed-call-tasks"],
        meaning: "A missed inbound call or a voicemail opens a callback task on the GHL contact (`MissedCallTasks`).",
    },
    Setting {
        variables: &["CLOSE_CALLBACK_TASKS"],
        required: "no",
        default: "`true`",
        parameters: &["CloseCallbackTasks"],
        tenant_flags: &["--close-callback-tasks"],
        meaning: "A later answered call (either direction) completes the callback tasks the bridge opened for the contact, with a note naming the call (`CloseCallbackTasks`).",
    },
    Setting {
        variables: &["CALLBACK_TASK_SLA_MINUTES"],
        required: "no",
        default: "`15`",
        parameters: &["CallbackTaskSlaMinutes"],
        tenant_flags: &["--callback-sla-minutes"],
        meaning: "A callback task is due this long after the missed call (`CallbackTaskSlaMinutes`).",
    },
    Setting {
        variables: &["CLOUDTALK_AI_API_BASE"],
        required: "no",
        default: "`https://api.cloudtalk.io/v1`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudTalk's Conversation Intelligence API.",
    },
    Setting {
        variables: &["CLOUDTALK_ANALYTICS_API_BASE"],
        required: "no",
        default: "`https://analytics-api.cloudtalk.io/api`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudTalk's analytics API: its record of a call (`GET /calls/{callId}`), read only to settle two versions of one call.",
    },
    Setting {
        variables: &["CLOUDTALK_PLATFORM_API_BASE"],
        required: "no",
        default: "`https://platform-api.cloudtalk.io/api`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudTalk's platform API: the cue cards shown to the agent during a call (`POST /cuecards`).",
    },
    Setting {
        variables: &["CALL_SUMMARIES"],
        required: "no",
        default: "`true`",
        parameters: &["CallSummaries"],
        tenant_flags: &["--call-summaries"],
        meaning: "After a call, its CloudTalk AI summary, smart notes and sentiment become one GHL note (`CallSummaries`).",
    },
    Setting {
        variables: &["CALL_TRANSCRIPTS"],
        required: "no",
        default: "`false`",
        parameters: &["CallTranscripts"],
        tenant_flags: &["--call-transcripts"],
        meaning: "The call's transcript becomes GHL notes too, speaker-labelled (`CallTranscripts`; personal data, so off by default).",
    },
    Setting {
        variables: &["CALL_TAG_PREFIX"],
        required: "no",
        default: "`call`",
        parameters: &["CallTagPrefix"],
        tenant_flags: &["--call-tag-prefix"],
        meaning: "The word before the GHL tags a call's CloudTalk tags become; the bridge adds `: ` (`call: Interested`), so whitespace a YAML editor or a console drops changes nothing (`call:` and `call: ` mean the same); `none`: no prefix (`CallTagPrefix`).",
    },
    Setting {
        variables: &["CALL_RATING_FIELD"],
        required: "no",
        default: "–",
        parameters: &["CallRatingField"],
        tenant_flags: &["--call-rating-field"],
        meaning: "GHL contact custom field id for a call's rating; without it the rating is a tag (`CallRatingField`).",
    },
    Setting {
        variables: &["CALL_DISPOSITION_FIELD"],
        required: "no",
        default: "–",
        parameters: &["CallDispositionField"],
        tenant_flags: &["--call-disposition-field"],
        meaning: "GHL contact custom field id for the last call's disposition (its tags, comma-separated), for GHL workflows to trigger on (`CallDispositionField`).",
    },
    Setting {
        variables: &["CUE_CARD_FIELDS"],
        required: "no",
        default: "`all`",
        parameters: &["CueCardFields"],
        tenant_flags: &["--cue-card-fields"],
        meaning: "What a call's cue card shows the agent in CloudTalk while it rings, besides the GHL contact's name and link: `all`, `none` (no card), or a comma list of `owner`, `tags`, `opportunities`, `note`, `dnd` (`CueCardFields`; see *Cue cards*). An unreadable value turns cards off.",
    },
    Setting {
        variables: &["SPEED_TO_LEAD"],
        required: "no",
        default: "`false`",
        parameters: &["SpeedToLead"],
        tenant_flags: &["--speed-to-lead"],
        meaning: "New GHL leads are dialled through CloudTalk's click-to-call (`SpeedToLead`; see *Speed to lead*).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_ON_NEW_CONTACT"],
        required: "no",
        default: "`true`",
        parameters: &["SpeedToLeadOnNewContact"],
        tenant_flags: &["--dial-on-new-contact"],
        meaning: "A new contact starts a dial (`SpeedToLeadOnNewContact`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_TAG"],
        required: "no",
        default: "–",
        parameters: &["SpeedToLeadTag"],
        tenant_flags: &["--dial-tag"],
        meaning: "This tag added to a contact starts a dial (`SpeedToLeadTag`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_EXCLUDE_SOURCES", "SPEED_TO_LEAD_EXCLUDE_TAGS"],
        required: "no",
        default: "–",
        parameters: &["SpeedToLeadExcludeSources", "SpeedToLeadExcludeTags"],
        tenant_flags: &["--dial-exclude-sources", "--dial-exclude-tags"],
        meaning: "Comma-separated contact sources and tags never dialled.",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_AGENTS"],
        required: "no",
        default: "`all`",
        parameters: &["SpeedToLeadAgents"],
        tenant_flags: &["--dial-agents"],
        meaning: "`all`, `owner` or CloudTalk agent ids `42,43` (`SpeedToLeadAgents`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_HOURS", "SPEED_TO_LEAD_TIME_ZONE"],
        required: "no",
        default: "always, `UTC`",
        parameters: &["SpeedToLeadHours", "SpeedToLeadTimeZone"],
        tenant_flags: &["--dial-hours", "--dial-time-zone"],
        meaning: "When dials may ring, `mon-fri 09:00-18:00; sat 10:00-13:00`, in an IANA zone.",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_AFTER_HOURS"],
        required: "no",
        default: "`queue`",
        parameters: &["SpeedToLeadAfterHours"],
        tenant_flags: &["--dial-after-hours"],
        meaning: "Outside hours: wait for the opening (`queue`) or open a task (`task`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_WINDOW_MINUTES", "SPEED_TO_LEAD_RETRY_SECONDS"],
        required: "no",
        default: "`10`, `30`",
        parameters: &["SpeedToLeadWindowMinutes", "SpeedToLeadRetrySeconds"],
        tenant_flags: &["--dial-window-minutes", "--dial-retry-seconds"],
        meaning: "How long to wait for a free agent, and how often to look. An invalid speed-to-lead value switches the feature off with an error log line.",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_MAX_PER_HOUR"],
        required: "no",
        default: "`60`",
        parameters: &["SpeedToLeadMaxPerHour"],
        tenant_flags: &["--dial-max-per-hour"],
        meaning: "Leads dialled per tenant per hour; the next get a task (`SpeedToLeadMaxPerHour`; see *What it will never dial*).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_MAX_PER_NUMBER_PER_DAY"],
        required: "no",
        default: "`2`",
        parameters: &["SpeedToLeadMaxPerNumberPerDay"],
        tenant_flags: &["--dial-max-per-number"],
        meaning: "Dial jobs of one number per day, whatever triggered them (`SpeedToLeadMaxPerNumberPerDay`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_MAX_ATTEMPTS"],
        required: "no",
        default: "`3`",
        parameters: &["SpeedToLeadMaxAttempts"],
        tenant_flags: &["--dial-max-attempts"],
        meaning: "Click-to-calls per lead that count; then a task (`SpeedToLeadMaxAttempts`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_HORIZON_HOURS"],
        required: "no",
        default: "`72`",
        parameters: &["SpeedToLeadHorizonHours"],
        tenant_flags: &["--dial-horizon-hours"],
        meaning: "A lead not dialled this long after its trigger gets a task; no wait goes past it (`SpeedToLeadHorizonHours`).",
    },
    Setting {
        variables: &["SPEED_TO_LEAD_COUNTRIES"],
        required: "no",
        default: "the country of `DEFAULT_PHONE_REGION`",
        parameters: &["SpeedToLeadCountries"],
        tenant_flags: &["--dial-countries"],
        meaning: "ISO codes of the countries whose numbers are dialled, `IT,SM` (`SpeedToLeadCountries`).",
    },
    Setting {
        variables: &["GHL_SMS_PROVIDER_ID"],
        required: "for texts received",
        default: "–",
        parameters: &["GhlSmsProviderId"],
        tenant_flags: &["--sms-provider"],
        meaning: "The app's SMS conversation provider: texts received in CloudTalk become inbound SMS in GHL's conversations under it (see *Texts*).",
    },
    Setting {
        variables: &["SMS_SENDER_NUMBER"],
        required: "for texts sent",
        default: "–",
        parameters: &["SmsSenderNumber"],
        tenant_flags: &["--sms-sender"],
        meaning: "The CloudTalk number (E.164) texts are sent from, unless the sending GHL user's agent has a default number.",
    },
    Setting {
        variables: &["SMS_MAX_PER_MINUTE"],
        required: "no",
        default: "`30`",
        parameters: &["SmsMaxPerMinute"],
        tenant_flags: &["--sms-max-per-minute"],
        meaning: "Texts sent per tenant per minute, counted across containers; the next wait for the next minute.",
    },
    Setting {
        variables: &["SMS_MAX_PER_NUMBER_PER_DAY"],
        required: "no",
        default: "`10`",
        parameters: &["SmsMaxPerNumberPerDay"],
        tenant_flags: &["--sms-max-per-number"],
        meaning: "Texts sent to one number per day (UTC); the next are reported failed with the reason.",
    },
    Setting {
        variables: &["SMS_STOP_WORDS", "SMS_START_WORDS"],
        required: "no",
        default: "`STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT,OPTOUT,REVOKE` / `START,UNSTOP,SUBSCRIBE`",
        parameters: &[],
        tenant_flags: &["--sms-stop-words", "--sms-start-words"],
        meaning: "A received text that is one of these words alone sets (stop) or lifts (start) the contact's SMS Do Not Disturb in GHL.",
    },
    Setting {
        variables: &["METRICS_NAMESPACE"],
        required: "no",
        default: "–",
        parameters: &[],
        tenant_flags: &[],
        meaning: "CloudWatch namespace of the metrics the bridge emits in the embedded metric format (the template sets it; the alarms watch them).",
    },
    Setting {
        variables: &["RUST_LOG"],
        required: "no",
        default: "`info`",
        parameters: &[],
        tenant_flags: &[],
        meaning: "Log filter: a level (`debug`) and `target=level` directives, separated by commas (`info,bridge=debug`). Without it, `AWS_LAMBDA_LOG_LEVEL` (the template's `LoggingConfig`) gives the level.",
    },
    Setting {
        variables: &[],
        required: "no",
        default: "`30`",
        parameters: &["LogRetentionDays"],
        tenant_flags: &[],
        meaning: "Days to keep Lambda and API access logs in CloudWatch Logs.",
    },
    Setting {
        variables: &[],
        required: "no",
        default: "`20`",
        parameters: &["DialCapAlarmThreshold"],
        tenant_flags: &[],
        meaning: "Dials refused by a cap in one hour above which the DialCapAlarm fires (a forged burst or a misconfigured workflow).",
    },
    Setting {
        variables: &[],
        required: "no",
        default: "`rate(15 minutes)`",
        parameters: &["ReconcileSchedule"],
        tenant_flags: &[],
        meaning: "When reconciliation reads back what the webhooks missed (CloudTalk calls, GHL contacts), as an EventBridge schedule expression, or \"none\" to switch it off.",
    },
    Setting {
        variables: &[],
        required: "no",
        default: "–",
        parameters: &["AlarmEmail"],
        tenant_flags: &[],
        meaning: "Email address notified when events land on the dead-letter queue (optional).",
    },
    Setting {
        variables: &[],
        required: "no",
        default: "`50`",
        parameters: &["ThrottlingRateLimit"],
        tenant_flags: &[],
        meaning: "Steady-state requests per second allowed on each API route.",
    },
    Setting {
        variables: &[],
        required: "no",
        default: "`100`",
        parameters: &["ThrottlingBurstLimit"],
        tenant_flags: &[],
        meaning: "Burst of requests allowed on each API route.",
    },
];

/// `items` as code, comma-separated; `–` for none.
fn code_list(items: &[&str]) -> String {
    match items.is_empty() {
        true => "–".to_string(),
        false => items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The configuration table of the docs, rendered from [`SETTINGS`].
pub fn settings_markdown() -> String {
    let mut out = String::from(
        "| Variable | Stack parameter | Tenant option | Required | Default | Meaning |\n\
         |---|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            code_list(s.variables),
            code_list(s.parameters),
            code_list(s.tenant_flags),
            s.required,
            s.default,
            s.meaning
        ));
    }
    out
}

use crate::registry::{EndpointId, REGISTRY};

/// What starts an endpoint's event, and what the bridge does with it: the manual's endpoint
/// table. Exhaustive, so an endpoint added to the registry without its row does not build.
pub fn endpoint_doc(id: EndpointId) -> (&'static str, &'static str) {
    use EndpointId as E;
    match id {
        E::GhlNewContact => ("GHL: contact created", "Finds the CloudTalk contact (map → phone → email) or creates it with name, phones, emails, tags, company and a link back to GHL; records the mapping. An existing contact gets GHL's tags appended. A GHL contact the bridge itself created from CloudTalk writes nothing (loop prevention). With speed to lead on, the lead also rings a CloudTalk agent (see *Speed to lead*)."),
        E::GhlNewTag => ("GHL: tag added", "Appends the tag to the CloudTalk contact; its other tags are never removed. The speed-to-lead tag (`SPEED_TO_LEAD_TAG`) also rings a CloudTalk agent."),
        E::GhlNewNote => ("GHL: note added", "Adds the note `[GHL Note] <body> - Added by User ID: <userId> - <timestamp>`."),
        E::GhlPipelineChange => ("GHL: opportunity changed stage", "Adds an activity of type `other`, \"Pipeline Stage Change\": `[GHL Pipeline Change] Contact moved to \"<stage>\" stage in \"<pipeline>\" pipeline (from \"<previous>\") - <timestamp>`."),
        E::GhlStatusChange => ("GHL: contact status changed", "Adds a note with the old and new status and the reason, and appends the tag `GHL-<STATUS>` (e.g. `GHL-CUSTOMER`)."),
        E::CloudtalkCallStarted => ("CloudTalk: call started", "Note on the GHL contact, by the agent's GHL user (see *People*): call started, direction, agent, number, time, call id."),
        E::CloudtalkCallEnded => ("CloudTalk: call ended", "Note by the agent's GHL user with outcome (answered / missed / voicemail), duration, talking and waiting time, agent, direction. A missed call also gets the tag `MISSED_CALL_TAG`; configured custom fields get the last call's date, outcome and duration. A missed inbound call or a voicemail opens a callback task (due `CALLBACK_TASK_SLA_MINUTES` later, for the contact's owner, else the agent); a later answered call completes the callback tasks the bridge opened for the contact. A contact created for the call is owned by the agent's user."),
        E::CloudtalkRecordingAvailable => ("CloudTalk: recording ready", "Note (by the agent's GHL user) with the recording link and the call it belongs to."),
        E::CloudtalkAgentStatusChange => ("CloudTalk: agent status changed", "Keeps each agent's latest status and time (DynamoDB) and mirrors it into a GHL location custom value `CloudTalk agent <name> (<id>) status` = `<status> since <time>`, created on first use. Late, older events are ignored."),
        E::CloudtalkContactCreated => ("CloudTalk: contact created", "Creates or updates the GHL contact (upsert: name, phone, email, `source` \"CloudTalk\") and records the mapping. A CloudTalk contact that is already linked (e.g. one the bridge created from GHL) writes nothing: loop prevention."),
        E::CloudtalkCampaignStatusChange => ("CloudTalk: campaign status changed", "Moves the affected contacts' opportunity to the stage `CAMPAIGN_STAGE_MAP` gives for the status (per campaign name or for all), creating the opportunity when the contact has none in that pipeline."),
        E::CloudtalkGeneric => ("CloudTalk: any other event", "One log line without personal data (event type, key names, size); the raw payload kept `GENERIC_RETENTION_DAYS` (14) in DynamoDB with a TTL; 200."),
        E::GhlAppInstall => ("GHL Marketplace app: `INSTALL` / `UNINSTALL`", "Agency mode: creates the location's tenant on install (served at once when its agency installed the app, else once the OAuth callback brings its tokens), enables it again on a reinstall after an uninstall, disables it and drops its tokens on uninstall (an agency's uninstall: every tenant served through it). A tenant an operator disabled stays disabled: the reinstall is recorded on it, logged (`reinstall_refused`) and shown by `bridge status`, not applied (`\"result\": \"reinstall_refused\"`). Only GHL-signed events for `GHL_APP_ID` are accepted."),
        E::CloudtalkCallModified => ("CloudTalk: Call Modified (tags, rating or notes of a call changed, wrap-up included)", "The call's tags become GHL contact tags with `CALL_TAG_PREFIX` (`call: Interested`), its rating a tag (`call: rating 4`) or the `CALL_RATING_FIELD` custom field, each agent note a GHL note, and the tags, as the call's disposition, the `CALL_DISPOSITION_FIELD` custom field (for GHL workflows). Only what is new for the call is written (see *What was said*)."),
        E::GhlDndChange => ("GHL: Do Not Disturb changed (Marketplace `ContactDndUpdate`, or a workflow)", "Reads the contact from GHL (the event only names it). Calls barred (`dnd`, or `dndSettings.Call` active or permanent): each of its numbers goes on CloudTalk's blacklist for outgoing calls, unless an entry already bars it. Lifted: the entries the bridge added for the contact are removed, never others. See *Speed to lead*."),
        E::GhlSmsDelivery => ("GHL: a user, workflow or bulk action sends a text (the app's SMS provider Delivery URL; signed)", "Asks GHL first: the message must be pending, the contact in the location and not opted out of texts (`dnd`, `dndSettings.SMS`). Sends it through CloudTalk (`POST /sms/send.json`) from the user's agent's number or `SMS_SENDER_NUMBER`, within `SMS_MAX_PER_MINUTE` and `SMS_MAX_PER_NUMBER_PER_DAY`, split into at most three texts, pictures as `images_by_url`; reports `delivered` or `failed` with the reason on GHL's message. Once per `messageId`; a text whose answer was lost is reported failed, never sent twice (see *Texts*)."),
        E::CloudtalkSmsReceived => ("CloudTalk: SMS received (workflow automation)", "Finds the GHL contact by number (created when missing) and adds the text as an inbound SMS to its conversation (under `GHL_SMS_PROVIDER_ID`), so GHL's inbox and \"Customer replied\" triggers fire. A lone opt-out word (`SMS_STOP_WORDS`) sets the contact's SMS Do Not Disturb, an opt-in word (`SMS_START_WORDS`) lifts it (see *Texts*)."),
    }
}

/// The routes that are not webhooks (`GET`): the route, who calls it, what it answers.
#[rustfmt::skip]
pub static OTHER_ROUTES: &[(&str, &str, &str)] = &[
    ("/oauth/callback", "GHL Marketplace app: the installer is sent back", "Agency mode: exchanges the code (`POST /oauth/token`) and keeps the tokens, sealed: a location install becomes its tenant; an agency install keeps the agency's tokens, and each location it approved becomes a tenant whose location tokens are minted on demand. Answers a page saying what was installed."),
    ("/health", "monitoring", "Status of the whole system: `ok` or `degraded` per dependency (contact map, state store, CloudTalk and GHL credentials); 503 when degraded. A caller presenting a webhook secret also sees which settings are present (never their values)."),
    ("/api/ghl-webhooks/test", "monitoring", "Status of the GHL → CloudTalk router, the same way."),
    ("/api/cloudtalk-webhooks/test", "monitoring", "Status of the CloudTalk → GHL router, the same way."),
];

/// The manual's endpoint table, rendered from the registry, [`endpoint_doc`] and
/// [`OTHER_ROUTES`].
pub fn endpoints_markdown() -> String {
    let mut out = String::from(
        "| # | Method and route | Lambda (`functions/src/bin/`) | Sender and trigger | What the bridge does |\n\
         |---|---|---|---|---|\n",
    );
    for (i, entry) in REGISTRY.iter().enumerate() {
        let (trigger, what) = endpoint_doc(entry.id);
        out.push_str(&format!(
            "| {} | `POST {}` | `{}` | {trigger} | {what} |\n",
            i + 1,
            entry.route,
            entry.name
        ));
    }
    for route in crate::registry::routes()
        .iter()
        .filter(|r| r.method == "GET")
    {
        let doc = OTHER_ROUTES.iter().find(|(r, _, _)| *r == route.route);
        let (trigger, what) = doc.map_or(("–", "–"), |(_, t, w)| (*t, *w));
        out.push_str(&format!(
            "| – | `GET {}` | `{}` | {trigger} | {what} |\n",
            route.route, route.function
        ));
    }
    out
}
