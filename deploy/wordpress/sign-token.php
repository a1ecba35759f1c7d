<?php
/**
 * SophMate Ops Ledger: how the WordPress plugin signs a token for the current user.
 *
 * The plugin holds one HS256 key of its own site, registered by an administrator with
 * POST /v1/sites/{site_id}/keys (the secret is shown in that answer only), in wp-config.php:
 *
 *     define('SOPHMATE_LEDGER_SITE_ID', 'acme-shop');
 *     define('SOPHMATE_LEDGER_KEY_ID', 'acme-shop.3f9a1c2e');
 *     define('SOPHMATE_LEDGER_KEY_SECRET', '...');
 *
 * It signs a fresh five-minute token for each call to the ledger and sends it from PHP only:
 *
 *     $token = sophmate_ledger_token_for_current_user();
 *     if ($token !== null) {
 *         $response = wp_remote_get(
 *             'https://ledger.example/v1/sites/' . rawurlencode(SOPHMATE_LEDGER_SITE_ID),
 *             ['headers' => ['Authorization' => 'Bearer ' . $token]]
 *         );
 *     }
 *
 * Requires firebase/php-jwt ^6 (composer require firebase/php-jwt), loaded by the plugin's
 * Composer autoloader.
 */

declare(strict_types=1);

use Firebase\JWT\JWT;

const SOPHMATE_LEDGER_ISSUER = 'sophmate-ledger';
const SOPHMATE_LEDGER_AUDIENCE = 'sophmate-ledger';
const SOPHMATE_LEDGER_TOKEN_TTL = 300;

/** WordPress role => ledger role. A user with none of these roles gets no token. */
const SOPHMATE_LEDGER_ROLES = [
    'administrator' => 'administrator',
    'editor' => 'editor',
    'shop_manager' => 'store_manager',
];

/**
 * A token for $sub with the ledger roles $roles, valid for this site only, for five minutes.
 *
 * @param list<string> $roles
 */
function sophmate_ledger_sign_token(string $sub, array $roles, ?int $now = null): string
{
    $iat = $now ?? time();
    $payload = [
        'sub' => $sub,
        'roles' => array_values($roles),
        // Its own site and nothing else: the ledger refuses a site key that claims another site,
        // all sites (["*"]) or an agency.
        'sites' => [SOPHMATE_LEDGER_SITE_ID],
        'iss' => SOPHMATE_LEDGER_ISSUER,
        'aud' => SOPHMATE_LEDGER_AUDIENCE,
        'iat' => $iat,
        'exp' => $iat + SOPHMATE_LEDGER_TOKEN_TTL,
    ];
    return JWT::encode($payload, SOPHMATE_LEDGER_KEY_SECRET, 'HS256', SOPHMATE_LEDGER_KEY_ID);
}

/** The current WordPress user's token, or null for a visitor or a user with no ledger role. */
function sophmate_ledger_token_for_current_user(): ?string
{
    $user = wp_get_current_user();
    if (empty($user->ID)) {
        return null;
    }
    $roles = [];
    foreach ((array) $user->roles as $role) {
        if (isset(SOPHMATE_LEDGER_ROLES[$role])) {
            $roles[] = SOPHMATE_LEDGER_ROLES[$role];
        }
    }
    $roles = array_values(array_unique($roles));
    if ($roles === []) {
        return null;
    }
    // user_login, not the e-mail address: the ledger's log is exported to auditors.
    return sophmate_ledger_sign_token($user->user_login, $roles);
}
