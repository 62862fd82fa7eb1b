package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Federation in (SPEC §18): the account's user-SSO setting, the SAML and
// OIDC identity providers roles trust, the state of SP-initiated sign-ins,
// the assertion IDs accepted (replay, across nodes) and the JWKS fetched
// from OIDC issuers. Sign-in state, consumed assertions and JWKS are quiet
// writes: nothing cached depends on them.

// UserSSOSettings is the account's user-based SSO setting.
type UserSSOSettings struct {
	SsoEnabled         bool
	MetadataDocument   string // Base64 of the IdP metadata, exactly as last set ("" when never set)
	AuxiliaryDomain    string
	SsoLoginWithDomain bool // true unless set false
	UpdatedAt          time.Time
}

// SAMLProvider is an identity provider for role-based SSO with SAML.
type SAMLProvider struct {
	ProviderID  string // stable id; sessions and caches refer to it, never to the name
	Name        string
	Description string
	Metadata    string // the metadata XML as given
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// OIDCProvider is an identity provider for role-based SSO with OIDC.
type OIDCProvider struct {
	ProviderID        string
	Name              string
	IssuerURL         string // immutable, unique in the account
	Description       string
	ClientIDs         []string // insertion order
	Fingerprints      []string // lowercase hex, insertion order
	IssuanceLimitTime int      // hours
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// UserSSOSettings returns the setting; never set, it is the default
// (off, no metadata, SsoLoginWithDomain true).
func (r Reads) UserSSOSettings(ctx context.Context) (*UserSSOSettings, error) {
	s := UserSSOSettings{SsoLoginWithDomain: true}
	var enabled, withDomain int64
	var updated string
	err := r.queryRow(ctx, `SELECT sso_enabled, metadata_document, auxiliary_domain, sso_login_with_domain, updated_at
		FROM user_sso_settings WHERE id = 1`).Scan(&enabled, &s.MetadataDocument, &s.AuxiliaryDomain, &withDomain, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return &s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: user sso settings: %w", err)
	}
	s.SsoEnabled, s.SsoLoginWithDomain, s.UpdatedAt = enabled != 0, withDomain != 0, parseTime(updated)
	return &s, nil
}

// PutUserSSOSettings replaces the setting.
func (tx *Tx) PutUserSSOSettings(ctx context.Context, s *UserSSOSettings) error {
	s.UpdatedAt = tx.now
	_, err := tx.ExecContext(ctx, `INSERT INTO user_sso_settings(id, sso_enabled, metadata_document, auxiliary_domain, sso_login_with_domain, updated_at)
		VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET sso_enabled = excluded.sso_enabled,
		metadata_document = excluded.metadata_document, auxiliary_domain = excluded.auxiliary_domain,
		sso_login_with_domain = excluded.sso_login_with_domain, updated_at = excluded.updated_at`,
		boolInt(s.SsoEnabled), s.MetadataDocument, s.AuxiliaryDomain, boolInt(s.SsoLoginWithDomain), timeText(tx.now))
	if err != nil {
		return fmt.Errorf("store: put user sso settings: %w", err)
	}
	return nil
}

const samlProviderColumns = "provider_id, name, description, metadata, created_at, updated_at"

func scanSAMLProvider(scan func(...any) error) (*SAMLProvider, error) {
	var p SAMLProvider
	var created, updated string
	err := scan(&p.ProviderID, &p.Name, &p.Description, &p.Metadata, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: saml provider: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = parseTime(created), parseTime(updated)
	return &p, nil
}

// SAMLProvider returns a provider by id; ErrNotFound when none.
func (r Reads) SAMLProvider(ctx context.Context, id string) (*SAMLProvider, error) {
	return scanSAMLProvider(r.queryRow(ctx, "SELECT "+samlProviderColumns+" FROM saml_providers WHERE provider_id = ?", id).Scan)
}

// SAMLProviderByName returns a provider by name, matched case-insensitively.
func (r Reads) SAMLProviderByName(ctx context.Context, name string) (*SAMLProvider, error) {
	return scanSAMLProvider(r.queryRow(ctx, "SELECT "+samlProviderColumns+" FROM saml_providers WHERE name_lower = ?", strings.ToLower(name)).Scan)
}

// SAMLProviders lists the providers by name.
func (r Reads) SAMLProviders(ctx context.Context) ([]SAMLProvider, error) {
	rows, err := r.query(ctx, "SELECT "+samlProviderColumns+" FROM saml_providers ORDER BY name_lower")
	if err != nil {
		return nil, fmt.Errorf("store: saml providers: %w", err)
	}
	return collect(rows, scanSAMLProvider)
}

// countBelow returns ErrLimitExceeded when table already holds max rows.
func (tx *Tx) countBelow(ctx context.Context, table string, max int) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return fmt.Errorf("store: count %s: %w", table, err)
	}
	if n >= max {
		return ErrLimitExceeded
	}
	return nil
}

// CreateSAMLProvider adds p (its ProviderID set by the caller), at most max
// of them; ErrConflict when the name is taken in any case, ErrLimitExceeded
// at max.
func (tx *Tx) CreateSAMLProvider(ctx context.Context, p *SAMLProvider, max int) error {
	if err := tx.countBelow(ctx, "saml_providers", max); err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	err := tx.savepoint(ctx, func() error {
		_, err := tx.ExecContext(ctx, `INSERT INTO saml_providers(provider_id, name, name_lower, description, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, p.ProviderID, p.Name, strings.ToLower(p.Name), p.Description, p.Metadata, timeText(tx.now), timeText(tx.now))
		return err
	})
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create saml provider: %w", err)
	}
	return nil
}

// UpdateSAMLProvider stores p's description and metadata.
func (tx *Tx) UpdateSAMLProvider(ctx context.Context, p *SAMLProvider) error {
	p.UpdatedAt = tx.now
	res, err := tx.ExecContext(ctx, "UPDATE saml_providers SET description = ?, metadata = ?, updated_at = ? WHERE provider_id = ?",
		p.Description, p.Metadata, timeText(tx.now), p.ProviderID)
	return rowChanged(res, err, "update saml provider")
}

// DeleteSAMLProvider deletes a provider by id.
func (tx *Tx) DeleteSAMLProvider(ctx context.Context, id string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM saml_providers WHERE provider_id = ?", id)
	return rowChanged(res, err, "delete saml provider")
}

// rowChanged turns a write's result into ErrNotFound when it touched no row.
func rowChanged(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const oidcProviderColumns = "provider_id, name, issuer_url, description, client_ids, fingerprints, issuance_limit_time, created_at, updated_at"

func scanOIDCProvider(scan func(...any) error) (*OIDCProvider, error) {
	var p OIDCProvider
	var clients, fingerprints, created, updated string
	err := scan(&p.ProviderID, &p.Name, &p.IssuerURL, &p.Description, &clients, &fingerprints, &p.IssuanceLimitTime, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: oidc provider: %w", err)
	}
	p.ClientIDs, p.Fingerprints = splitList(clients, "\n"), splitList(fingerprints, "\n")
	p.CreatedAt, p.UpdatedAt = parseTime(created), parseTime(updated)
	return &p, nil
}

// OIDCProvider returns a provider by id; ErrNotFound when none.
func (r Reads) OIDCProvider(ctx context.Context, id string) (*OIDCProvider, error) {
	return scanOIDCProvider(r.queryRow(ctx, "SELECT "+oidcProviderColumns+" FROM oidc_providers WHERE provider_id = ?", id).Scan)
}

// OIDCProviderByName returns a provider by name, matched case-insensitively.
func (r Reads) OIDCProviderByName(ctx context.Context, name string) (*OIDCProvider, error) {
	return scanOIDCProvider(r.queryRow(ctx, "SELECT "+oidcProviderColumns+" FROM oidc_providers WHERE name_lower = ?", strings.ToLower(name)).Scan)
}

// OIDCProviders lists the providers by name.
func (r Reads) OIDCProviders(ctx context.Context) ([]OIDCProvider, error) {
	rows, err := r.query(ctx, "SELECT "+oidcProviderColumns+" FROM oidc_providers ORDER BY name_lower")
	if err != nil {
		return nil, fmt.Errorf("store: oidc providers: %w", err)
	}
	return collect(rows, scanOIDCProvider)
}

// CreateOIDCProvider adds p, at most max of them; ErrConflict when the name
// (any case) is taken, ErrLimitExceeded at max. The issuer URL's uniqueness
// is checked by the caller through OIDCProviderByIssuer in the same
// transaction and enforced by a unique index.
func (tx *Tx) CreateOIDCProvider(ctx context.Context, p *OIDCProvider, max int) error {
	if err := tx.countBelow(ctx, "oidc_providers", max); err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	err := tx.savepoint(ctx, func() error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_providers(provider_id, name, name_lower, issuer_url, description, client_ids,
			fingerprints, issuance_limit_time, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ProviderID, p.Name, strings.ToLower(p.Name), p.IssuerURL, p.Description, strings.Join(p.ClientIDs, "\n"),
			strings.Join(p.Fingerprints, "\n"), p.IssuanceLimitTime, timeText(tx.now), timeText(tx.now))
		return err
	})
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create oidc provider: %w", err)
	}
	return nil
}

// OIDCProviderByIssuer returns the provider of an issuer URL; ErrNotFound when none.
func (r Reads) OIDCProviderByIssuer(ctx context.Context, issuerURL string) (*OIDCProvider, error) {
	return scanOIDCProvider(r.queryRow(ctx, "SELECT "+oidcProviderColumns+" FROM oidc_providers WHERE issuer_url = ?", issuerURL).Scan)
}

// UpdateOIDCProvider stores p's client ids, fingerprints, issuance limit and
// description; when the fingerprints changed it drops the provider's JWKS.
func (tx *Tx) UpdateOIDCProvider(ctx context.Context, p *OIDCProvider) error {
	old, err := tx.OIDCProvider(ctx, p.ProviderID)
	if err != nil {
		return err
	}
	p.UpdatedAt = tx.now
	fingerprints := strings.Join(p.Fingerprints, "\n")
	res, err := tx.ExecContext(ctx, `UPDATE oidc_providers SET client_ids = ?, fingerprints = ?, issuance_limit_time = ?, description = ?,
		updated_at = ? WHERE provider_id = ?`, strings.Join(p.ClientIDs, "\n"), fingerprints, p.IssuanceLimitTime, p.Description,
		timeText(tx.now), p.ProviderID)
	if err := rowChanged(res, err, "update oidc provider"); err != nil {
		return err
	}
	if fingerprints != strings.Join(old.Fingerprints, "\n") {
		return tx.dropOIDCProviderJWKS(ctx, p.ProviderID)
	}
	return nil
}

// DeleteOIDCProvider deletes a provider by id and its cached JWKS.
func (tx *Tx) DeleteOIDCProvider(ctx context.Context, id string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM oidc_providers WHERE provider_id = ?", id)
	if err := rowChanged(res, err, "delete oidc provider"); err != nil {
		return err
	}
	return tx.dropOIDCProviderJWKS(ctx, id)
}

func (tx *Tx) dropOIDCProviderJWKS(ctx context.Context, providerID string) error {
	if _, err := tx.quiet(ctx, "DELETE FROM oidc_provider_jwks WHERE provider_id = ?", providerID); err != nil {
		return fmt.Errorf("store: drop oidc provider jwks: %w", err)
	}
	return nil
}

// PutSAMLRequest keeps an SP-initiated sign-in's AuthnRequest ID and next
// path under the hash of its RelayState until expires (quiet). Expired
// sign-ins are swept on the way.
func (tx *Tx) PutSAMLRequest(ctx context.Context, relayHash, requestID, next string, expires time.Time) error {
	if _, err := tx.quiet(ctx, "DELETE FROM saml_requests WHERE expires_at <= ?", timeText(tx.now)); err != nil {
		return fmt.Errorf("store: sweep saml requests: %w", err)
	}
	if _, err := tx.quiet(ctx, "INSERT INTO saml_requests(relay_hash, request_id, next, expires_at) VALUES (?, ?, ?, ?)",
		relayHash, requestID, next, timeText(expires)); err != nil {
		return fmt.Errorf("store: put saml request: %w", err)
	}
	return nil
}

// TakeSAMLRequest returns and deletes the sign-in kept under relayHash;
// ErrNotFound when none is kept or it expired (quiet; single use across nodes).
func (tx *Tx) TakeSAMLRequest(ctx context.Context, relayHash string) (requestID, next string, err error) {
	var expires string
	err = tx.Tx.QueryRowContext(ctx, "DELETE FROM saml_requests WHERE relay_hash = ? RETURNING request_id, next, expires_at", relayHash).
		Scan(&requestID, &next, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("store: take saml request: %w", err)
	}
	if !tx.now.Before(parseTime(expires)) {
		return "", "", ErrNotFound
	}
	return requestID, next, nil
}

// ConsumeSAMLAssertion records that the assertion issuer/id was accepted, kept
// until expires; first is false when it was accepted before (a replay),
// on any node (quiet). Assertions past their expiry are forgotten first:
// they are refused as expired before their ID is looked at.
func (tx *Tx) ConsumeSAMLAssertion(ctx context.Context, issuer, assertionID string, expires time.Time) (first bool, err error) {
	if _, err := tx.quiet(ctx, "DELETE FROM saml_assertions WHERE expires_at < ?", timeText(tx.now)); err != nil {
		return false, fmt.Errorf("store: sweep saml assertions: %w", err)
	}
	res, err := tx.quiet(ctx, "INSERT INTO saml_assertions(issuer, assertion_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		issuer, assertionID, timeText(expires))
	if err != nil {
		return false, fmt.Errorf("store: consume saml assertion: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OIDCProviderJWKS returns the cached JWKS under key.
func (r Reads) OIDCProviderJWKS(ctx context.Context, key string) (doc []byte, fetched time.Time, ok bool, err error) {
	var at string
	err = r.queryRow(ctx, "SELECT doc, fetched_at FROM oidc_provider_jwks WHERE cache_key = ?", key).Scan(&doc, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("store: oidc provider jwks: %w", err)
	}
	return doc, parseTime(at), true, nil
}

// PutOIDCProviderJWKS caches a JWKS document under key for a provider (quiet).
func (tx *Tx) PutOIDCProviderJWKS(ctx context.Context, key, providerID string, doc []byte, fetched time.Time) error {
	_, err := tx.quiet(ctx, `INSERT INTO oidc_provider_jwks(cache_key, provider_id, doc, fetched_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(cache_key) DO UPDATE SET provider_id = excluded.provider_id, doc = excluded.doc, fetched_at = excluded.fetched_at`,
		key, providerID, doc, timeText(fetched))
	if err != nil {
		return fmt.Errorf("store: put oidc provider jwks: %w", err)
	}
	return nil
}
