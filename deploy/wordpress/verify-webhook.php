<?php
/**
 * Verifies a SophMate Ops Ledger webhook delivery (the Standard Webhooks scheme) in WordPress.
 *
 *   $payload = sophmate_ledger_verify_webhook(
 *       file_get_contents('php://input'),
 *       array_change_key_case(getallheaders(), CASE_LOWER),
 *       SOPHMATE_LEDGER_WEBHOOK_SECRET  // the whsec_ secret, kept in wp-config.php
 *   );
 *   if ($payload === null) { status_header(401); exit; }
 *   // Deliveries are at least once: drop a webhook-id already handled.
 *
 * Returns the decoded payload, or null when the signature, the timestamp or the body is wrong.
 * Check the raw body, before any JSON decoding: the signature covers those exact bytes.
 */

function sophmate_ledger_verify_webhook(
    string $body,
    array $headers,
    string $secret,
    int $tolerance_seconds = 300,
    ?int $now = null
): ?array {
    $id = $headers['webhook-id'] ?? '';
    $timestamp = $headers['webhook-timestamp'] ?? '';
    $signatures = $headers['webhook-signature'] ?? '';
    if ($id === '' || $signatures === '' || !ctype_digit($timestamp)) {
        return null;
    }
    $now = $now ?? time();
    // Too old or too far ahead: a replayed or forged delivery, not a late one.
    if (abs($now - (int) $timestamp) > $tolerance_seconds) {
        return null;
    }
    if (strpos($secret, 'whsec_') === 0) {
        $secret = substr($secret, 6);
    }
    $key = base64_decode($secret, true);
    if ($key === false || $key === '') {
        return null;
    }
    $expected = base64_encode(hash_hmac('sha256', $id . '.' . $timestamp . '.' . $body, $key, true));
    foreach (explode(' ', $signatures) as $versioned) {
        $parts = explode(',', $versioned, 2);
        if (count($parts) === 2 && $parts[0] === 'v1' && hash_equals($expected, $parts[1])) {
            $payload = json_decode($body, true);
            return is_array($payload) ? $payload : null;
        }
    }
    return null;
}
