package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The OpenID provider's storage (SPEC §17): signing keys, applications and
// their secrets' hashes, pending authorization requests, codes, token
// families and tokens. Codes, tokens, secrets and request ids are stored as
// hashes only. The writes of the sign-in flow (requests, codes, tokens) are
// quiet: nothing cached depends on them.

// OIDCKey is an ID-token signing key; PrivateEnc is sealed.
type OIDCKey struct {
	KID        string
	PrivateEnc []byte
	PublicJWK  string
	CreatedAt  time.Time
	RetiredAt  time.Time // when a newer key replaced it; zero for the current key
}

// OIDCKeys lists the keys not dropped: the current one, then the others
// from the most recently replaced.
func (r Reads) OIDCKeys(ctx context.Context) ([]OIDCKey, error) {
	rows, err := r.query(ctx, "SELECT kid, private_enc, public_jwk, created_at, retired_at FROM oidc_keys WHERE dropped = 0 "+
		"ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, retired_at DESC, created_at DESC, kid")
	if err != nil {
		return nil, fmt.Errorf("store: oidc keys: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*OIDCKey, error) {
		var k OIDCKey
		var created string
		var retired sql.NullString
		if err := scan(&k.KID, &k.PrivateEnc, &k.PublicJWK, &created, &retired); err != nil {
			return nil, fmt.Errorf("store: oidc key: %w", err)
		}
		k.CreatedAt, k.RetiredAt = parseTime(created), nullTime(retired)
		return &k, nil
	})
}

// AddOIDCKey makes k the current key: the one before is retired now.
func (tx *Tx) AddOIDCKey(ctx context.Context, k OIDCKey) error {
	if _, err := tx.ExecContext(ctx, "UPDATE oidc_keys SET retired_at = ? WHERE retired_at IS NULL", timeText(tx.now)); err != nil {
		return fmt.Errorf("store: retire oidc key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO oidc_keys(kid, private_enc, public_jwk, created_at) VALUES (?, ?, ?, ?)",
		k.KID, k.PrivateEnc, k.PublicJWK, timeText(tx.now)); err != nil {
		return fmt.Errorf("store: add oidc key: %w", err)
	}
	return nil
}

// DropOIDCKey stops publishing a retired key; ErrNotFound when no retired
// key has that kid (the current key is never dropped).
func (tx *Tx) DropOIDCKey(ctx context.Context, kid string) error {
	res, err := tx.ExecContext(ctx, "UPDATE oidc_keys SET dropped = 1 WHERE kid = ? AND retired_at IS NOT NULL AND dropped = 0", kid)
	if err != nil {
		return fmt.Errorf("store: drop oidc key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DropOIDCKeysRetiredBefore drops the keys retired before t.
func (tx *Tx) DropOIDCKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, "UPDATE oidc_keys SET dropped = 1 WHERE dropped = 0 AND retired_at IS NOT NULL AND retired_at < ?", timeText(t))
	if err != nil {
		return 0, fmt.Errorf("store: drop old oidc keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Application is an OAuth client of the OpenID provider.
type Application struct {
	AppID, AppName, DisplayName, AppType string
	RedirectURIs, LogoutURIs             []string
	Scopes, RequiredScopes               []string
	SecretRequired                       bool
	AccessValidity, RefreshValidity      int // seconds
	CreatedAt, UpdatedAt                 time.Time
}

const applicationColumns = `app_id, app_name, display_name, app_type, redirect_uris, logout_uris, scopes, required_scopes,
	secret_required, access_validity, refresh_validity, created_at, updated_at`

func splitList(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

func scanApplication(scan func(...any) error) (*Application, error) {
	var a Application
	var redirects, logouts, scopes, required, created, updated string
	var secret int64
	err := scan(&a.AppID, &a.AppName, &a.DisplayName, &a.AppType, &redirects, &logouts, &scopes, &required, &secret,
		&a.AccessValidity, &a.RefreshValidity, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: application: %w", err)
	}
	a.RedirectURIs, a.LogoutURIs = splitList(redirects, "\n"), splitList(logouts, "\n")
	a.Scopes, a.RequiredScopes = splitList(scopes, " "), splitList(required, " ")
	a.SecretRequired, a.CreatedAt, a.UpdatedAt = secret != 0, parseTime(created), parseTime(updated)
	return &a, nil
}

// Application returns an application by its AppId.
func (r Reads) Application(ctx context.Context, appID string) (*Application, error) {
	return scanApplication(r.queryRow(ctx, "SELECT "+applicationColumns+" FROM applications WHERE app_id = ?", appID).Scan)
}

// ApplicationByName returns an application by its name, in any case.
func (r Reads) ApplicationByName(ctx context.Context, name string) (*Application, error) {
	return scanApplication(r.queryRow(ctx, "SELECT "+applicationColumns+" FROM applications WHERE app_name_lower = ?", strings.ToLower(name)).Scan)
}

// Applications lists every application by name.
func (r Reads) Applications(ctx context.Context) ([]Application, error) {
	rows, err := r.query(ctx, "SELECT "+applicationColumns+" FROM applications ORDER BY app_name_lower")
	if err != nil {
		return nil, fmt.Errorf("store: applications: %w", err)
	}
	return collect(rows, scanApplication)
}

// CreateApplication stores a new application, at most max of them;
// ErrConflict when the name is taken, ErrLimitExceeded at max.
func (tx *Tx) CreateApplication(ctx context.Context, a *Application, max int) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM applications").Scan(&n); err != nil {
		return fmt.Errorf("store: count applications: %w", err)
	}
	if n >= max {
		return ErrLimitExceeded
	}
	a.CreatedAt, a.UpdatedAt = tx.now, tx.now
	err := tx.savepoint(ctx, func() error {
		_, err := tx.ExecContext(ctx, `INSERT INTO applications(app_id, app_name, app_name_lower, display_name, app_type, redirect_uris,
			logout_uris, scopes, required_scopes, secret_required, access_validity, refresh_validity, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.AppID, a.AppName, strings.ToLower(a.AppName), a.DisplayName, a.AppType, strings.Join(a.RedirectURIs, "\n"),
			strings.Join(a.LogoutURIs, "\n"), strings.Join(a.Scopes, " "), strings.Join(a.RequiredScopes, " "), boolInt(a.SecretRequired),
			a.AccessValidity, a.RefreshValidity, timeText(tx.now), timeText(tx.now))
		return err
	})
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create application: %w", err)
	}
	return nil
}

// UpdateApplication writes an application's changeable settings.
func (tx *Tx) UpdateApplication(ctx context.Context, a *Application) error {
	a.UpdatedAt = tx.now
	res, err := tx.ExecContext(ctx, `UPDATE applications SET display_name = ?, redirect_uris = ?, logout_uris = ?, scopes = ?,
		required_scopes = ?, secret_required = ?, access_validity = ?, refresh_validity = ?, updated_at = ? WHERE app_id = ?`,
		a.DisplayName, strings.Join(a.RedirectURIs, "\n"), strings.Join(a.LogoutURIs, "\n"), strings.Join(a.Scopes, " "),
		strings.Join(a.RequiredScopes, " "), boolInt(a.SecretRequired), a.AccessValidity, a.RefreshValidity, timeText(tx.now), a.AppID)
	if err != nil {
		return fmt.Errorf("store: update application: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteApplication removes an application with its secrets, and every
// code, token family and token it issued.
func (tx *Tx) DeleteApplication(ctx context.Context, appID string) error {
	for _, q := range []string{
		"DELETE FROM oidc_tokens WHERE family IN (SELECT family FROM oidc_families WHERE app_id = ?)",
		"DELETE FROM oidc_families WHERE app_id = ?",
		"DELETE FROM oidc_codes WHERE app_id = ?",
		"DELETE FROM app_secrets WHERE app_id = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, appID); err != nil {
			return fmt.Errorf("store: delete application: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM applications WHERE app_id = ?", appID)
	if err != nil {
		return fmt.Errorf("store: delete application: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// AppSecret is the hash of an application's secret.
type AppSecret struct {
	SecretID, AppID, Hash string
	CreatedAt             time.Time
}

// AppSecrets lists an application's secrets, oldest first.
func (r Reads) AppSecrets(ctx context.Context, appID string) ([]AppSecret, error) {
	rows, err := r.query(ctx, "SELECT secret_id, app_id, secret_hash, created_at FROM app_secrets WHERE app_id = ? ORDER BY created_at, secret_id", appID)
	if err != nil {
		return nil, fmt.Errorf("store: app secrets: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*AppSecret, error) {
		var s AppSecret
		var created string
		if err := scan(&s.SecretID, &s.AppID, &s.Hash, &created); err != nil {
			return nil, fmt.Errorf("store: app secret: %w", err)
		}
		s.CreatedAt = parseTime(created)
		return &s, nil
	})
}

// AddAppSecret stores a secret's hash, at most max per application.
func (tx *Tx) AddAppSecret(ctx context.Context, s *AppSecret, max int) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM app_secrets WHERE app_id = ?", s.AppID).Scan(&n); err != nil {
		return fmt.Errorf("store: count app secrets: %w", err)
	}
	if n >= max {
		return ErrLimitExceeded
	}
	s.CreatedAt = tx.now
	if _, err := tx.ExecContext(ctx, "INSERT INTO app_secrets(secret_id, app_id, secret_hash, created_at) VALUES (?, ?, ?, ?)",
		s.SecretID, s.AppID, s.Hash, timeText(tx.now)); err != nil {
		return fmt.Errorf("store: add app secret: %w", err)
	}
	return nil
}

// DeleteAppSecret removes a secret; ErrNotFound when the application has
// no secret of that id.
func (tx *Tx) DeleteAppSecret(ctx context.Context, appID, secretID string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM app_secrets WHERE app_id = ? AND secret_id = ?", appID, secretID)
	if err != nil {
		return fmt.Errorf("store: delete app secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// OIDCRecord is a stored row of the sign-in flow: a pending request, a
// code, a token family or a token. Data is the flow's own JSON.
type OIDCRecord struct {
	Hash, AppID, Family, Principal, Kind, Scopes, Data string
	CreatedAt, ExpiresAt, UsedAt                       time.Time
	Revoked                                            bool
}

// PutOIDCRequest keeps a pending authorization request for a session.
func (tx *Tx) PutOIDCRequest(ctx context.Context, idHash, sessionHash, data string, expires time.Time) error {
	if _, err := tx.quiet(ctx, "DELETE FROM oidc_requests WHERE expires_at < ?", timeText(tx.now)); err != nil {
		return fmt.Errorf("store: sweep oidc requests: %w", err)
	}
	_, err := tx.quiet(ctx, "INSERT INTO oidc_requests(id_hash, session_hash, data, expires_at) VALUES (?, ?, ?, ?)",
		idHash, sessionHash, data, timeText(expires))
	if err != nil {
		return fmt.Errorf("store: put oidc request: %w", err)
	}
	return nil
}

// OIDCRequest returns an unexpired pending request by its id's hash.
func (r Reads) OIDCRequest(ctx context.Context, idHash string) (*OIDCRecord, error) {
	var rec OIDCRecord
	var expires string
	err := r.queryRow(ctx, "SELECT id_hash, session_hash, data, expires_at FROM oidc_requests WHERE id_hash = ? AND expires_at > ?",
		idHash, timeText(r.store.Now())).Scan(&rec.Hash, &rec.Principal, &rec.Data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: oidc request: %w", err)
	}
	rec.ExpiresAt = parseTime(expires)
	return &rec, nil
}

// DeleteOIDCRequest removes a pending request.
func (tx *Tx) DeleteOIDCRequest(ctx context.Context, idHash string) error {
	_, err := tx.quiet(ctx, "DELETE FROM oidc_requests WHERE id_hash = ?", idHash)
	return err
}

// PutOIDCCode stores a code (by hash) and the family it will start.
func (tx *Tx) PutOIDCCode(ctx context.Context, codeHash, appID, family, data string, expires time.Time) error {
	if _, err := tx.quiet(ctx, "DELETE FROM oidc_codes WHERE expires_at < ?", timeText(tx.now.Add(-time.Hour))); err != nil {
		return fmt.Errorf("store: sweep oidc codes: %w", err)
	}
	_, err := tx.quiet(ctx, "INSERT INTO oidc_codes(code_hash, app_id, family, data, expires_at) VALUES (?, ?, ?, ?, ?)",
		codeHash, appID, family, data, timeText(expires))
	if err != nil {
		return fmt.Errorf("store: put oidc code: %w", err)
	}
	return nil
}

// UseOIDCCode marks a code used, atomically: first is true for the one
// use that counts; a code used before comes back with first false (a
// replay), an unknown one as ErrNotFound.
func (tx *Tx) UseOIDCCode(ctx context.Context, codeHash string) (rec *OIDCRecord, first bool, err error) {
	res, err := tx.quiet(ctx, "UPDATE oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL", timeText(tx.now), codeHash)
	if err != nil {
		return nil, false, fmt.Errorf("store: use oidc code: %w", err)
	}
	n, _ := res.RowsAffected()
	var r OIDCRecord
	var expires string
	err = tx.QueryRowContext(ctx, "SELECT code_hash, app_id, family, data, expires_at FROM oidc_codes WHERE code_hash = ?", codeHash).
		Scan(&r.Hash, &r.AppID, &r.Family, &r.Data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, ErrNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: oidc code: %w", err)
	}
	r.ExpiresAt = parseTime(expires)
	return &r, n == 1, nil
}

// PutOIDCFamily starts a token family.
func (tx *Tx) PutOIDCFamily(ctx context.Context, family, appID, principal, data string) error {
	_, err := tx.quiet(ctx, "INSERT INTO oidc_families(family, app_id, principal, data, created_at) VALUES (?, ?, ?, ?, ?)",
		family, appID, principal, data, timeText(tx.now))
	if err != nil {
		return fmt.Errorf("store: put oidc family: %w", err)
	}
	return nil
}

// OIDCFamily returns a token family.
func (r Reads) OIDCFamily(ctx context.Context, family string) (*OIDCRecord, error) {
	var rec OIDCRecord
	var created string
	var revoked int64
	err := r.queryRow(ctx, "SELECT family, app_id, principal, data, created_at, revoked FROM oidc_families WHERE family = ?", family).
		Scan(&rec.Family, &rec.AppID, &rec.Principal, &rec.Data, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: oidc family: %w", err)
	}
	rec.CreatedAt, rec.Revoked = parseTime(created), revoked != 0
	return &rec, nil
}

// RevokeOIDCFamilies revokes the families named by column = value
// ("family", "principal" or "app_id") and deletes their tokens; it
// returns how many live families it revoked.
func (tx *Tx) RevokeOIDCFamilies(ctx context.Context, column, value string) (int64, error) {
	switch column {
	case "family", "principal", "app_id":
	default:
		return 0, fmt.Errorf("store: revoke oidc families by %q", column)
	}
	if _, err := tx.quiet(ctx, "DELETE FROM oidc_tokens WHERE family IN (SELECT family FROM oidc_families WHERE "+column+" = ?)", value); err != nil {
		return 0, fmt.Errorf("store: revoke oidc tokens: %w", err)
	}
	res, err := tx.quiet(ctx, "UPDATE oidc_families SET revoked = 1 WHERE revoked = 0 AND "+column+" = ?", value)
	if err != nil {
		return 0, fmt.Errorf("store: revoke oidc families: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// PutOIDCToken stores a token (by hash) of a family. Tokens expired an
// hour ago go first: an expired token is refused before anything else, so
// forgetting it changes no answer.
func (tx *Tx) PutOIDCToken(ctx context.Context, tokenHash, kind, family, scopes string, expires time.Time) error {
	if _, err := tx.quiet(ctx, "DELETE FROM oidc_tokens WHERE expires_at < ?", timeText(tx.now.Add(-time.Hour))); err != nil {
		return fmt.Errorf("store: sweep oidc tokens: %w", err)
	}
	_, err := tx.quiet(ctx, "INSERT INTO oidc_tokens(token_hash, kind, family, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		tokenHash, kind, family, scopes, timeText(tx.now), timeText(expires))
	if err != nil {
		return fmt.Errorf("store: put oidc token: %w", err)
	}
	return nil
}

// OIDCToken returns a stored token with its family's application,
// principal and revocation; ErrNotFound for an unknown token.
func (r Reads) OIDCToken(ctx context.Context, tokenHash string) (*OIDCRecord, error) {
	var rec OIDCRecord
	var created, expires string
	var rotated sql.NullString
	var revoked int64
	err := r.queryRow(ctx, `SELECT t.token_hash, t.kind, t.family, t.scopes, t.created_at, t.expires_at, t.rotated_at,
		f.app_id, f.principal, f.data, f.revoked FROM oidc_tokens t JOIN oidc_families f ON f.family = t.family WHERE t.token_hash = ?`, tokenHash).
		Scan(&rec.Hash, &rec.Kind, &rec.Family, &rec.Scopes, &created, &expires, &rotated, &rec.AppID, &rec.Principal, &rec.Data, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: oidc token: %w", err)
	}
	rec.CreatedAt, rec.ExpiresAt, rec.UsedAt, rec.Revoked = parseTime(created), parseTime(expires), nullTime(rotated), revoked != 0
	return &rec, nil
}

// RotateOIDCToken marks a refresh token rotated out, atomically: true for
// the one rotation that counts.
func (tx *Tx) RotateOIDCToken(ctx context.Context, tokenHash string) (bool, error) {
	res, err := tx.quiet(ctx, "UPDATE oidc_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL", timeText(tx.now), tokenHash)
	if err != nil {
		return false, fmt.Errorf("store: rotate oidc token: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteOIDCToken removes one token (a revoked access token).
func (tx *Tx) DeleteOIDCToken(ctx context.Context, tokenHash string) error {
	_, err := tx.quiet(ctx, "DELETE FROM oidc_tokens WHERE token_hash = ?", tokenHash)
	return err
}
