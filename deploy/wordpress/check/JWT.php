<?php
/**
 * A stand-in for firebase/php-jwt's JWT::encode, for tests/service/test_site_keys.py only.
 *
 * Packagist is not reachable where the ledger's tests run. This does what php-jwt 6.x does for
 * HS256: header {"typ":"JWT","alg":...,"kid":...} in that order, json_encode with
 * JSON_UNESCAPED_SLASHES, base64url without padding, HMAC-SHA256 over "header.payload".
 * Do not ship it: the plugin uses the real library.
 */

declare(strict_types=1);

namespace Firebase\JWT;

final class JWT
{
    public static function encode(
        array $payload,
        $key,
        string $alg,
        ?string $keyId = null,
        ?array $head = null
    ): string {
        if ($alg !== 'HS256' || !\is_string($key)) {
            throw new \DomainException('this stand-in signs HS256 with a string key only');
        }
        $header = \array_merge(['typ' => 'JWT'], $head ?? []);
        $header['alg'] = $alg;
        if ($keyId !== null) {
            $header['kid'] = $keyId;
        }
        $signingInput = self::b64(self::json($header)) . '.' . self::b64(self::json($payload));
        return $signingInput . '.' . self::b64(\hash_hmac('sha256', $signingInput, $key, true));
    }

    private static function json(array $value): string
    {
        return \json_encode($value, \JSON_UNESCAPED_SLASHES | \JSON_THROW_ON_ERROR);
    }

    private static function b64(string $bytes): string
    {
        return \rtrim(\strtr(\base64_encode($bytes), '+/', '-_'), '=');
    }
}
