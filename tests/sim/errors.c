/*
 * errors.c - the providers' documented error answers (see errors.h).
 *
 * Every body is the provider's documented error object for that case,
 * with its documented message; request ids, keys and model names are
 * made up.  Sources, by provider (each row names its page):
 *   OpenAI: the error codes guide (platform.openai.com/docs/guides/
 *     error-codes) and the rate limits guide (x-ratelimit-* headers);
 *     the billing codes of a 429 as the guide lists them (error.type
 *     insufficient_quota, error.code credit_balance_exhausted ...), the
 *     429 slow_down and the 503 server_is_overloaded of type
 *     service_unavailable_error.  retry-after-ms is the header the
 *     official client (openai-python, _base_client.py) reads first.
 *   Anthropic: the errors page (platform.claude.com/docs/en/api/errors:
 *     {"type": "error", "error": {"type", "message"}, "request_id"}) and
 *     the rate limits page (retry-after, anthropic-ratelimit-* with RFC
 *     3339 resets; the tier spend cap's 429 with
 *     error.details.error_code enforced_spend_limit_reached and no
 *     retry-after).  The error types are anthropic-sdk-python's
 *     types/shared/error_type.py.
 *   Google: the Gemini API troubleshooting page (canonical statuses:
 *     400 INVALID_ARGUMENT and FAILED_PRECONDITION, 403
 *     PERMISSION_DENIED, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500
 *     INTERNAL, 503 UNAVAILABLE) and the rate limits page; the
 *     QuotaFailure, Help and RetryInfo details are the google.rpc
 *     types the API sends (quotaId names the window: PerMinute or
 *     PerDay), as in googleapis/python-genai and google-gemini/gemini-cli
 *     issue reports.
 *   DeepSeek: the error codes page (api-docs.deepseek.com/quick_start/
 *     error_codes) documents the status and the error's name; the body
 *     is its OpenAI-shaped error object with that name as the message
 *     (the 402 as DeepSeek sends it: type unknown_error, code
 *     invalid_request_error).
 *   Qwen (DashScope): the Model Studio error code page (www.alibabacloud
 *     .com/help/en/model-studio/error-code): native bodies {"request_id",
 *     "code", "message"} and the compatible mode's OpenAI-shaped ones
 *     (InvalidApiKey/invalid_api_key, Arrearage,
 *     Throttling.RateQuota/limit_requests,
 *     Throttling.AllocationQuota/insufficient_quota, ModelNotFound/
 *     model_not_found, DataInspectionFailed/data_inspection_failed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "sim.h"

const struct sim_err_row sim_err_rows[] = {
	/* 401 - Incorrect API key provided */
	{ "openai_invalid_api_key", SIM_KIND_OPENAI, 401, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Incorrect API key provided: sk-proj-**"
	    "**7890. You can find your API key at https://platform.openai.com"
	    "/account/api-keys.\",\"type\":\"invalid_request_error\",\"param"
	    "\":null,\"code\":\"invalid_api_key\"}}",
	    "auth", "http:401 invalid_api_key",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 429 - You exceeded your current quota */
	{ "openai_insufficient_quota", SIM_KIND_OPENAI, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You exceeded your current quota, pleas"
	    "e check your plan and billing details. For more information on t"
	    "his error, read the docs: https://platform.openai.com/docs/guide"
	    "s/error-codes/api-errors.\",\"type\":\"insufficient_quota\",\"pa"
	    "ram\":null,\"code\":\"insufficient_quota\"}}",
	    "quota", "http:429 insufficient_quota",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 429 credit_balance_exhausted: error.code names the limit */
	{ "openai_credit_balance_exhausted", SIM_KIND_OPENAI, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You exceeded your current quota, pleas"
	    "e check your plan and billing details. For more information on t"
	    "his error, read the docs: https://platform.openai.com/docs/guide"
	    "s/error-codes/api-errors.\",\"type\":\"insufficient_quota\",\"pa"
	    "ram\":null,\"code\":\"credit_balance_exhausted\"}}",
	    "quota", "http:429 credit_balance_exhaust",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 429 organization_spend_limit_exceeded */
	{ "openai_org_spend_limit", SIM_KIND_OPENAI, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You exceeded your current quota, pleas"
	    "e check your plan and billing details. For more information on t"
	    "his error, read the docs: https://platform.openai.com/docs/guide"
	    "s/error-codes/api-errors.\",\"type\":\"insufficient_quota\",\"pa"
	    "ram\":null,\"code\":\"organization_spend_limit_exceeded\"}}",
	    "quota", "http:429 organization_spend_lim",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 429 project_spend_limit_exceeded */
	{ "openai_project_spend_limit", SIM_KIND_OPENAI, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You exceeded your current quota, pleas"
	    "e check your plan and billing details. For more information on t"
	    "his error, read the docs: https://platform.openai.com/docs/guide"
	    "s/error-codes/api-errors.\",\"type\":\"insufficient_quota\",\"pa"
	    "ram\":null,\"code\":\"project_spend_limit_exceeded\"}}",
	    "quota", "http:429 project_spend_limit_ex",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 429 organization_usage_limit_exceeded */
	{ "openai_org_usage_limit", SIM_KIND_OPENAI, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You exceeded your current quota, pleas"
	    "e check your plan and billing details. For more information on t"
	    "his error, read the docs: https://platform.openai.com/docs/guide"
	    "s/error-codes/api-errors.\",\"type\":\"insufficient_quota\",\"pa"
	    "ram\":null,\"code\":\"organization_usage_limit_exceeded\"}}",
	    "quota", "http:429 organization_usage_lim",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 429 - Rate limit reached for requests, x-ratelimit-* headers */
	{ "openai_rate_limit_requests", SIM_KIND_OPENAI, 429, 20,
	    {
		{ "x-ratelimit-limit-requests", "3" },
		{ "x-ratelimit-remaining-requests", "0" },
		{ "x-ratelimit-reset-requests", "20s" },
		{ "x-ratelimit-limit-tokens", "40000" },
		{ "x-ratelimit-remaining-tokens", "40000" },
		{ "x-ratelimit-reset-tokens", "0s" },
	    },
	    "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in "
	    "organization org-vigilsim on requests per min (RPM): Limit 3, Us"
	    "ed 3, Requested 1. Please try again in 20s. Visit https://platfo"
	    "rm.openai.com/account/rate-limits to learn more.\",\"type\":\"re"
	    "quests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
	    "rate_limited", "http:429 rate_limit_exceeded",
	    "https://platform.openai.com/docs/guides/rate-limits" },
	/* 429 on tokens per minute; retry-after-ms as openai-python reads it */
	{ "openai_rate_limit_tokens", SIM_KIND_OPENAI, 429, 2,
	    {
		{ "retry-after-ms", "1400" },
		{ "x-ratelimit-limit-requests", "5000" },
		{ "x-ratelimit-remaining-requests", "4999" },
		{ "x-ratelimit-reset-requests", "12ms" },
		{ "x-ratelimit-limit-tokens", "30000" },
		{ "x-ratelimit-remaining-tokens", "500" },
		{ "x-ratelimit-reset-tokens", "1.4s" },
	    },
	    "{\"error\":{\"message\":\"Rate limit reached for gpt-4o in organ"
	    "ization org-vigilsim on tokens per min (TPM): Limit 30000, Used "
	    "29500, Requested 1200. Please try again in 1.4s. Visit https://p"
	    "latform.openai.com/account/rate-limits to learn more.\",\"type\""
	    ":\"tokens\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
	    "rate_limited", "http:429 rate_limit_exceeded",
	    "https://platform.openai.com/docs/guides/rate-limits" },
	/* 429 slow_down (a 503 before) */
	{ "openai_slow_down", SIM_KIND_OPENAI, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"A sudden increase in your request rate"
	    " is impacting service reliability. Please reduce your request ra"
	    "te to its original level, maintain a consistent rate for at leas"
	    "t 15 minutes, and then gradually increase it.\",\"type\":\"rate_"
	    "limit_error\",\"param\":null,\"code\":\"slow_down\"}}",
	    "rate_limited", "http:429 slow_down",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 503 server_is_overloaded, type service_unavailable_error */
	{ "openai_server_overloaded", SIM_KIND_OPENAI, 503, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"The requested model does not have enou"
	    "gh capacity to process your request at the moment. Please try ag"
	    "ain later.\",\"type\":\"service_unavailable_error\",\"param\":nu"
	    "ll,\"code\":\"server_is_overloaded\"}}",
	    "overloaded", "http:503 server_is_overloaded",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 404 model_not_found */
	{ "openai_model_not_found", SIM_KIND_OPENAI, 404, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"The model `gpt-vigil-0` does not exist"
	    " or you do not have access to it.\",\"type\":\"invalid_request_e"
	    "rror\",\"param\":null,\"code\":\"model_not_found\"}}",
	    "model_missing", "http:404 model_not_found",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 400 invalid_request_error: our request */
	{ "openai_context_length", SIM_KIND_OPENAI, 400, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"This model's maximum context length is"
	    " 128000 tokens. However, your messages resulted in 130000 tokens"
	    ". Please reduce the length of the messages.\",\"type\":\"invalid"
	    "_request_error\",\"param\":\"messages\",\"code\":\"context_lengt"
	    "h_exceeded\"}}",
	    "client_error", "http:400 context_length_exceede",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 500 - The server had an error while processing your request */
	{ "openai_server_error", SIM_KIND_OPENAI, 500, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"The server had an error while processi"
	    "ng your request. Sorry about that!\",\"type\":\"server_error\","
	    "\"param\":null,\"code\":null}}",
	    "http_5xx", "http:500 server_error",
	    "https://platform.openai.com/docs/guides/error-codes" },
	/* 401 authentication_error */
	{ "anthropic_authentication_error", SIM_KIND_ANTHROPIC, 401, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\""
	    ",\"message\":\"invalid x-api-key\"},\"request_id\":\"req_011CVig"
	    "ilSim0000000001\"}",
	    "auth", "http:401 authentication_error",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 403 permission_error */
	{ "anthropic_permission_error", SIM_KIND_ANTHROPIC, 403, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"m"
	    "essage\":\"Your API key does not have permission to use the spec"
	    "ified resource.\"},\"request_id\":\"req_011CVigilSim0000000002\""
	    "}",
	    "auth", "http:403 permission_error",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 402 billing_error */
	{ "anthropic_billing_error", SIM_KIND_ANTHROPIC, 402, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"billing_error\",\"mess"
	    "age\":\"There is an issue with your billing or payment informati"
	    "on. Check your payment details in the Claude Console.\"},\"reque"
	    "st_id\":\"req_011CVigilSim0000000003\"}",
	    "quota", "http:402 billing_error",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 400 invalid_request_error: the credit balance is too low */
	{ "anthropic_credit_balance_low", SIM_KIND_ANTHROPIC, 400, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error"
	    "\",\"message\":\"Your credit balance is too low to access the An"
	    "thropic API. Please go to Plans & Billing to upgrade or purchase"
	    " credits.\"},\"request_id\":\"req_011CVigilSim0000000004\"}",
	    "quota", "http:400 credit_balance_too_low",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 400 when usage reaches a spend limit you set */
	{ "anthropic_usage_limits", SIM_KIND_ANTHROPIC, 400, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error"
	    "\",\"message\":\"You have reached your specified API usage limit"
	    "s. You will regain access on 2026-12-01 at 00:00 UTC.\"},\"reque"
	    "st_id\":\"req_011CVigilSim0000000005\"}",
	    "quota", "http:400 usage_limits",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 429 tier spend cap: error.details.error_code, no retry-after */
	{ "anthropic_enforced_spend_limit", SIM_KIND_ANTHROPIC, 429, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"m"
	    "essage\":\"You have reached your API usage limits: your organiza"
	    "tion has crossed its monthly API usage threshold, set based on y"
	    "our organization's API tier. You will regain access on 2026-12-0"
	    "1 at 00:00 UTC.\",\"details\":{\"error_code\":\"enforced_spend_l"
	    "imit_reached\"}},\"request_id\":\"req_011CVigilSim0000000006\"}",
	    "quota", "http:429 enforced_spend_limit_r",
	    "https://platform.claude.com/docs/en/api/rate-limits" },
	/* 429 rate_limit_error, retry-after, anthropic-ratelimit-* */
	{ "anthropic_rate_limit", SIM_KIND_ANTHROPIC, 429, 30,
	    {
		{ "anthropic-ratelimit-requests-limit", "50" },
		{ "anthropic-ratelimit-requests-remaining", "0" },
		{ "anthropic-ratelimit-requests-reset", "@retry" },
		{ "anthropic-ratelimit-tokens-limit", "38000" },
		{ "anthropic-ratelimit-tokens-remaining", "38000" },
		{ "anthropic-ratelimit-tokens-reset", "@+0" },
		{ "anthropic-ratelimit-input-tokens-limit", "30000" },
		{ "anthropic-ratelimit-input-tokens-remaining", "30000" },
		{ "anthropic-ratelimit-input-tokens-reset", "@+0" },
		{ "anthropic-ratelimit-output-tokens-limit", "8000" },
		{ "anthropic-ratelimit-output-tokens-remaining", "8000" },
		{ "anthropic-ratelimit-output-tokens-reset", "@+0" },
	    },
	    "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"m"
	    "essage\":\"This request would exceed your organization's rate li"
	    "mit of 50 requests per minute. For details, refer to: https://do"
	    "cs.claude.com/en/api/rate-limits. You can see the response heade"
	    "rs for current usage. Please reduce the prompt length or the max"
	    "imum tokens requested, or try again later.\"},\"request_id\":\"r"
	    "eq_011CVigilSim0000000007\"}",
	    "rate_limited", "http:429 rate_limit_error",
	    "https://platform.claude.com/docs/en/api/rate-limits" },
	/* 529 overloaded_error */
	{ "anthropic_overloaded", SIM_KIND_ANTHROPIC, 529, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"m"
	    "essage\":\"Overloaded\"},\"request_id\":\"req_011CVigilSim000000"
	    "0008\"}",
	    "overloaded", "http:529 overloaded_error",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 404 not_found_error naming the model */
	{ "anthropic_model_not_found", SIM_KIND_ANTHROPIC, 404, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"me"
	    "ssage\":\"model: claude-vigil-0\"},\"request_id\":\"req_011CVigi"
	    "lSim0000000009\"}",
	    "model_missing", "http:404 not_found_error",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 500 api_error */
	{ "anthropic_api_error", SIM_KIND_ANTHROPIC, 500, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message"
	    "\":\"Internal server error\"},\"request_id\":\"req_011CVigilSim0"
	    "000000010\"}",
	    "http_5xx", "http:500 api_error",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 413 request_too_large */
	{ "anthropic_request_too_large", SIM_KIND_ANTHROPIC, 413, 0,
	    { { NULL, NULL } },
	    "{\"type\":\"error\",\"error\":{\"type\":\"request_too_large\",\""
	    "message\":\"Request exceeds the maximum allowed number of bytes."
	    "\"},\"request_id\":\"req_011CVigilSim0000000011\"}",
	    "client_error", "http:413 request_too_large",
	    "https://platform.claude.com/docs/en/api/errors" },
	/* 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID */
	{ "google_api_key_invalid", SIM_KIND_GOOGLE, 400, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":400,\"message\":\"API key not valid. Please"
	    " pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\",\"detai"
	    "ls\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\""
	    "reason\":\"API_KEY_INVALID\",\"domain\":\"googleapis.com\",\"met"
	    "adata\":{\"service\":\"generativelanguage.googleapis.com\"}},{\""
	    "@type\":\"type.googleapis.com/google.rpc.LocalizedMessage\",\"lo"
	    "cale\":\"en-US\",\"message\":\"API key not valid. Please pass a "
	    "valid API key.\"}]}}",
	    "auth", "http:400 API_KEY_INVALID",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 403 PERMISSION_DENIED */
	{ "google_permission_denied", SIM_KIND_GOOGLE, 403, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":403,\"message\":\"Method doesn't allow unre"
	    "gistered callers (callers without established identity). Please "
	    "use API Key or other form of API consumer identity to call this "
	    "API.\",\"status\":\"PERMISSION_DENIED\"}}",
	    "auth", "http:403 PERMISSION_DENIED",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 429 RESOURCE_EXHAUSTED whose QuotaFailure names a per-day quota */
	{ "google_quota_per_day", SIM_KIND_GOOGLE, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":429,\"message\":\"You exceeded your current"
	    " quota, please check your plan and billing details. For more inf"
	    "ormation on this error, head to: https://ai.google.dev/gemini-ap"
	    "i/docs/rate-limits.\",\"status\":\"RESOURCE_EXHAUSTED\",\"detail"
	    "s\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\","
	    "\"violations\":[{\"quotaMetric\":\"generativelanguage.googleapis"
	    ".com/generate_content_free_tier_requests\",\"quotaId\":\"Generat"
	    "eRequestsPerDayPerProjectPerModel-FreeTier\",\"quotaDimensions\""
	    ":{\"location\":\"global\",\"model\":\"gemini-2.0-flash\"},\"quot"
	    "aValue\":\"200\"}]},{\"@type\":\"type.googleapis.com/google.rpc."
	    "Help\",\"links\":[{\"description\":\"Learn more about Gemini API"
	    " quotas\",\"url\":\"https://ai.google.dev/gemini-api/docs/rate-l"
	    "imits\"}]}]}}",
	    "quota", "http:429 RESOURCE_EXHAUSTED/day",
	    "https://ai.google.dev/gemini-api/docs/rate-limits" },
	/* 400 FAILED_PRECONDITION */
	{ "google_billing_not_enabled", SIM_KIND_GOOGLE, 400, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":400,\"message\":\"Gemini API free tier is n"
	    "ot available in your country. Please enable billing on your proj"
	    "ect in Google AI Studio.\",\"status\":\"FAILED_PRECONDITION\"}}",
	    "quota", "http:400 FAILED_PRECONDITION",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 429 RESOURCE_EXHAUSTED, a per-minute quota, RetryInfo */
	{ "google_rate_limit", SIM_KIND_GOOGLE, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":429,\"message\":\"You exceeded your current"
	    " quota, please check your plan and billing details. For more inf"
	    "ormation on this error, head to: https://ai.google.dev/gemini-ap"
	    "i/docs/rate-limits.\",\"status\":\"RESOURCE_EXHAUSTED\",\"detail"
	    "s\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\","
	    "\"violations\":[{\"quotaMetric\":\"generativelanguage.googleapis"
	    ".com/generate_content_free_tier_requests\",\"quotaId\":\"Generat"
	    "eRequestsPerMinutePerProjectPerModel-FreeTier\",\"quotaDimension"
	    "s\":{\"location\":\"global\",\"model\":\"gemini-2.0-flash\"},\"q"
	    "uotaValue\":\"15\"}]},{\"@type\":\"type.googleapis.com/google.rp"
	    "c.Help\",\"links\":[{\"description\":\"Learn more about Gemini A"
	    "PI quotas\",\"url\":\"https://ai.google.dev/gemini-api/docs/rate"
	    "-limits\"}]},{\"@type\":\"type.googleapis.com/google.rpc.RetryIn"
	    "fo\",\"retryDelay\":\"29s\"}]}}",
	    "rate_limited", "http:429 RESOURCE_EXHAUSTED",
	    "https://ai.google.dev/gemini-api/docs/rate-limits" },
	/* 503 UNAVAILABLE */
	{ "google_overloaded", SIM_KIND_GOOGLE, 503, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":503,\"message\":\"The model is overloaded. "
	    "Please try again later.\",\"status\":\"UNAVAILABLE\"}}",
	    "overloaded", "http:503 UNAVAILABLE",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 404 NOT_FOUND */
	{ "google_model_not_found", SIM_KIND_GOOGLE, 404, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":404,\"message\":\"models/gemini-vigil-0 is "
	    "not found for API version v1beta, or is not supported for genera"
	    "teContent. Call ListModels to see the list of available models a"
	    "nd their supported methods.\",\"status\":\"NOT_FOUND\"}}",
	    "model_missing", "http:404 NOT_FOUND",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 400 INVALID_ARGUMENT */
	{ "google_invalid_argument", SIM_KIND_GOOGLE, 400, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":400,\"message\":\"Request contains an inval"
	    "id argument.\",\"status\":\"INVALID_ARGUMENT\"}}",
	    "client_error", "http:400 INVALID_ARGUMENT",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 500 INTERNAL */
	{ "google_internal", SIM_KIND_GOOGLE, 500, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":500,\"message\":\"An internal error has occ"
	    "urred. Please retry or report in https://developers.generativeai"
	    ".google/guide/troubleshooting\",\"status\":\"INTERNAL\"}}",
	    "http_5xx", "http:500 INTERNAL",
	    "https://ai.google.dev/gemini-api/docs/troubleshooting" },
	/* 401 - Authentication Fails */
	{ "deepseek_authentication_fails", SIM_KIND_DEEPSEEK, 401, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Authentication Fails, Your api key: **"
	    "**7890 is invalid\",\"type\":\"authentication_error\",\"param\":"
	    "null,\"code\":\"invalid_request_error\"}}",
	    "auth", "http:401 authentication_fails",
	    "https://api-docs.deepseek.com/quick_start/error_codes" },
	/* 402 - Insufficient Balance */
	{ "deepseek_insufficient_balance", SIM_KIND_DEEPSEEK, 402, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Insufficient Balance\",\"type\":\"unkn"
	    "own_error\",\"param\":null,\"code\":\"invalid_request_error\"}}",
	    "quota", "http:402 insufficient_balance",
	    "https://api-docs.deepseek.com/quick_start/error_codes" },
	/* 422 - Invalid Parameters */
	{ "deepseek_invalid_parameters", SIM_KIND_DEEPSEEK, 422, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Invalid Parameters\",\"type\":\"unknow"
	    "n_error\",\"param\":null,\"code\":\"invalid_request_error\"}}",
	    "client_error", "http:422 invalid_parameters",
	    "https://api-docs.deepseek.com/quick_start/error_codes" },
	/* 429 - Rate Limit Reached */
	{ "deepseek_rate_limit", SIM_KIND_DEEPSEEK, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Rate Limit Reached\",\"type\":\"unknow"
	    "n_error\",\"param\":null,\"code\":\"invalid_request_error\"}}",
	    "rate_limited", "http:429 rate_limit_reached",
	    "https://api-docs.deepseek.com/quick_start/error_codes" },
	/* 500 - Server Error */
	{ "deepseek_server_error", SIM_KIND_DEEPSEEK, 500, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Server Error\",\"type\":\"unknown_erro"
	    "r\",\"param\":null,\"code\":\"invalid_request_error\"}}",
	    "http_5xx", "http:500 server_error",
	    "https://api-docs.deepseek.com/quick_start/error_codes" },
	/* 503 - Server Overloaded */
	{ "deepseek_server_overloaded", SIM_KIND_DEEPSEEK, 503, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Server Overloaded\",\"type\":\"unknown"
	    "_error\",\"param\":null,\"code\":\"invalid_request_error\"}}",
	    "overloaded", "http:503 server_overloaded",
	    "https://api-docs.deepseek.com/quick_start/error_codes" },
	/* 401 invalid_api_key (compatible mode) */
	{ "qwen_invalid_api_key", SIM_KIND_QWEN, 401, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"Incorrect API key provided. \",\"type"
	    "\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_a"
	    "pi_key\"},\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000001"
	    "\"}",
	    "auth", "http:401 invalid_api_key",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 401 InvalidApiKey (native) */
	{ "qwen_native_invalid_api_key", SIM_KIND_QWEN, 401, 0,
	    { { NULL, NULL } },
	    "{\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000002\",\"code"
	    "\":\"InvalidApiKey\",\"message\":\"Invalid API-key provided.\"}",
	    "auth", "http:401 InvalidApiKey",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 400 Arrearage (compatible mode) */
	{ "qwen_arrearage", SIM_KIND_QWEN, 400, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":\"Arrearage\",\"param\":null,\"message\":\""
	    "Access denied, please make sure your account is in good standing"
	    ". For details, see: https://help.aliyun.com/zh/model-studio/erro"
	    "r-code#overdue-payment\",\"type\":\"Arrearage\"},\"id\":\"chatcm"
	    "pl-7b3c2f1e-0000-4000-8000-000000000003\",\"request_id\":\"7b3c2"
	    "f1e-0000-4000-8000-000000000003\"}",
	    "quota", "http:400 Arrearage",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* Arrearage (native) as a 403 */
	{ "qwen_native_arrearage", SIM_KIND_QWEN, 403, 0,
	    { { NULL, NULL } },
	    "{\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000004\",\"code"
	    "\":\"Arrearage\",\"message\":\"Access denied, please make sure y"
	    "our account is in good standing.\"}",
	    "quota", "http:403 Arrearage",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 429 insufficient_quota (compatible mode) */
	{ "qwen_insufficient_quota", SIM_KIND_QWEN, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You exceeded your current quota, pleas"
	    "e check your plan and billing details.\",\"type\":\"insufficient"
	    "_quota\",\"param\":null,\"code\":\"insufficient_quota\"},\"reque"
	    "st_id\":\"7b3c2f1e-0000-4000-8000-000000000005\"}",
	    "quota", "http:429 insufficient_quota",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 429 limit_requests (compatible mode) */
	{ "qwen_limit_requests", SIM_KIND_QWEN, 429, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"You have exceeded your current request"
	    " limit. For details, see: https://help.aliyun.com/zh/model-studi"
	    "o/error-code#rate-limit\",\"type\":\"limit_requests\",\"param\":"
	    "null,\"code\":\"limit_requests\"},\"request_id\":\"7b3c2f1e-0000"
	    "-4000-8000-000000000006\"}",
	    "rate_limited", "http:429 limit_requests",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 429 Throttling.RateQuota (native) */
	{ "qwen_throttling", SIM_KIND_QWEN, 429, 0,
	    { { NULL, NULL } },
	    "{\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000007\",\"code"
	    "\":\"Throttling.RateQuota\",\"message\":\"Requests rate limit ex"
	    "ceeded, please try again later.\"}",
	    "rate_limited", "http:429 Throttling.RateQuota",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 429 Throttling.AllocationQuota (native): tokens per minute */
	{ "qwen_throttling_allocation", SIM_KIND_QWEN, 429, 0,
	    { { NULL, NULL } },
	    "{\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000008\",\"code"
	    "\":\"Throttling.AllocationQuota\",\"message\":\"Allocated quota "
	    "exceeded, please increase your quota limit.\"}",
	    "rate_limited", "http:429 Throttling.AllocationQ",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 404 model_not_found (compatible mode) */
	{ "qwen_model_not_found", SIM_KIND_QWEN, 404, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"message\":\"The model `qwen-vigil` does not exist "
	    "or you do not have access to it.\",\"type\":\"invalid_request_er"
	    "ror\",\"param\":null,\"code\":\"model_not_found\"},\"request_id"
	    "\":\"7b3c2f1e-0000-4000-8000-000000000009\"}",
	    "model_missing", "http:404 model_not_found",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 404 ModelNotFound (native) */
	{ "qwen_native_model_not_found", SIM_KIND_QWEN, 404, 0,
	    { { NULL, NULL } },
	    "{\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000010\",\"code"
	    "\":\"ModelNotFound\",\"message\":\"Model not found (qwen-vigil)!"
	    "\"}",
	    "model_missing", "http:404 ModelNotFound",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 400 data_inspection_failed (compatible mode): content moderation */
	{ "qwen_data_inspection_failed", SIM_KIND_QWEN, 400, 0,
	    { { NULL, NULL } },
	    "{\"error\":{\"code\":\"data_inspection_failed\",\"param\":null,"
	    "\"message\":\"Input data may contain inappropriate content.\",\""
	    "type\":\"data_inspection_failed\"},\"id\":\"chatcmpl-7b3c2f1e-00"
	    "00-4000-8000-000000000011\",\"request_id\":\"7b3c2f1e-0000-4000-"
	    "8000-000000000011\"}",
	    "client_error", "http:400 data_inspection_failed",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
	/* 400 DataInspectionFailed (native) */
	{ "qwen_native_data_inspection_failed", SIM_KIND_QWEN, 400, 0,
	    { { NULL, NULL } },
	    "{\"request_id\":\"7b3c2f1e-0000-4000-8000-000000000012\",\"code"
	    "\":\"DataInspectionFailed\",\"message\":\"Input data may contain"
	    " inappropriate content.\"}",
	    "client_error", "http:400 DataInspectionFailed",
	    "https://www.alibabacloud.com/help/en/model-studio/error-code" },
};
const size_t sim_err_nrows = sizeof(sim_err_rows) / sizeof(sim_err_rows[0]);

static void	hdr_value(const char *, long, char *, size_t);

/* The mode named name: 1 + its row, or 0 when there is none. */
int
sim_err_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sim_err_nrows; i++)
		if (strcmp(sim_err_rows[i].mode, name) == 0)
			return (int)i + 1;
	return 0;
}

/* The row of mode (1 + index), or NULL. */
const struct sim_err_row *
sim_err_row(int mode)
{
	if (mode < 1 || (size_t)mode > sim_err_nrows)
		return NULL;
	return &sim_err_rows[mode - 1];
}

/*
 * Every mode name, separated by spaces, into buf (cut to fit).  Returns
 * the length the whole list needs, as snprintf does.
 */
size_t
sim_err_list(char *buf, size_t len)
{
	size_t i, n = 0, l;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < sim_err_nrows; i++) {
		l = strlen(sim_err_rows[i].mode) + (i > 0);
		if (n + l < len)
			snprintf(buf + n, len - n, "%s%s", i > 0 ? " " : "",
			    sim_err_rows[i].mode);
		n += l;
	}
	return n;
}

/* A header value: "@retry" and "@+N" become times (errors.h). */
static void
hdr_value(const char *v, long retry_after, char *buf, size_t len)
{
	struct tm tm;
	time_t t;

	if (strcmp(v, "@retry") == 0)
		t = time(NULL) + retry_after;
	else if (strncmp(v, "@+", 2) == 0)
		t = time(NULL) + strtol(v + 2, NULL, 10);
	else {
		snprintf(buf, len, "%s", v);
		return;
	}
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%s", v);
}

/*
 * Fill r with mode's answer: status, JSON body, the row's headers, and
 * Retry-After: retry_after when it is > 0 (the fault field of that
 * name wins), else the row's own.  Returns 0, or -1 when out of memory
 * or the mode is unknown.
 */
int
sim_err_reply(int mode, long retry_after, struct sim_reply *r)
{
	const struct sim_err_row *row = sim_err_row(mode);
	int n;

	if (row == NULL)
		return -1;
	if (sim_reply_set(r, row->status, "application/json", row->body) ==
	    -1)
		return -1;
	r->retry_after = retry_after > 0 ? retry_after : row->retry_after;
	free(r->hdrs);
	r->hdrs = NULL;
	r->nhdrs = 0;
	for (n = 0; n < SIM_ERR_HDRS && row->hdr[n].name != NULL; n++)
		;
	if (n == 0)
		return 0;
	if ((r->hdrs = calloc((size_t)n, sizeof(*r->hdrs))) == NULL)
		return -1;
	for (r->nhdrs = 0; r->nhdrs < n; r->nhdrs++) {
		r->hdrs[r->nhdrs].name = row->hdr[r->nhdrs].name;
		hdr_value(row->hdr[r->nhdrs].value, r->retry_after,
		    r->hdrs[r->nhdrs].value, sizeof(r->hdrs[r->nhdrs].value));
	}
	return 0;
}
