package ram

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"ramconsole/ram/oidcfed"
	"ramconsole/ram/samlsp"
	"ramconsole/store"
)

// Federation in (SPEC §18): the account's user-based SSO setting and the
// SAML and OIDC identity providers that roles trust, managed in the console
// (/sso…) and through IMS 2019-08-15, authorised by the ram: actions below
// on acs:ram:*:<AccountId>:saml-provider/<name> or …:oidc-provider/<name>
// (List: …/*; the user SSO setting: *), audited with eventSource ims for
// IMS calls and as console changes otherwise; a metadata document is
// recorded by its SHA-256, never verbatim.

// Federation limits and defaults (SPEC §18.10).
const (
	MaxSAMLProviders         = 100
	MaxOIDCProviders         = 100
	MaxOIDCClientIDs         = 50
	MaxOIDCFingerprints      = 5
	MaxMetadataLength        = 100000
	DefaultIssuanceLimitTime = 12
)

// The actions of federation.
const (
	ActionSetUserSsoSettings                = "ram:SetUserSsoSettings"
	ActionGetUserSsoSettings                = "ram:GetUserSsoSettings"
	ActionCreateSAMLProvider                = "ram:CreateSAMLProvider"
	ActionGetSAMLProvider                   = "ram:GetSAMLProvider"
	ActionListSAMLProviders                 = "ram:ListSAMLProviders"
	ActionUpdateSAMLProvider                = "ram:UpdateSAMLProvider"
	ActionDeleteSAMLProvider                = "ram:DeleteSAMLProvider"
	ActionCreateOIDCProvider                = "ram:CreateOIDCProvider"
	ActionGetOIDCProvider                   = "ram:GetOIDCProvider"
	ActionListOIDCProviders                 = "ram:ListOIDCProviders"
	ActionUpdateOIDCProvider                = "ram:UpdateOIDCProvider"
	ActionDeleteOIDCProvider                = "ram:DeleteOIDCProvider"
	ActionAddClientIDToOIDCProvider         = "ram:AddClientIdToOIDCProvider"
	ActionRemoveClientIDFromOIDCProvider    = "ram:RemoveClientIdFromOIDCProvider"
	ActionAddFingerprintToOIDCProvider      = "ram:AddFingerprintToOIDCProvider"
	ActionRemoveFingerprintFromOIDCProvider = "ram:RemoveFingerprintFromOIDCProvider"
)

// SAMLProviderARN is a SAML provider's ARN, as trust policies name it.
func SAMLProviderARN(acct, name string) string { return "acs:ram::" + acct + ":saml-provider/" + name }

// OIDCProviderARN is an OIDC provider's ARN, as trust policies name it.
func OIDCProviderARN(acct, name string) string { return "acs:ram::" + acct + ":oidc-provider/" + name }

// FederatedSource is the SourcePrincipal of a role session started through
// a provider (kind "saml-provider" or "oidc-provider"): by id, so deleting
// the provider ends its sessions and a provider created again under the same
// name inherits none.
func FederatedSource(kind, providerID string) string { return kind + "/" + providerID }

// UserSSO is the user-based SSO setting with its metadata parsed.
type UserSSO struct {
	Settings    store.UserSSOSettings
	MetadataXML string              // the decoded metadata ("" when none)
	IDP         *samlsp.IDPMetadata // nil when no metadata is set
}

// UserSSOInput changes the setting; nil fields keep their value. Metadata
// comes Base64 (IMS MetadataDocument) or as XML (the console's textarea or
// file); at most one of the two is set.
type UserSSOInput struct {
	SsoEnabled         *bool
	MetadataDocument   *string // Base64
	MetadataXML        *string
	AuxiliaryDomain    *string
	SsoLoginWithDomain *bool
}

// SAMLProvider is a SAML provider with its ARN and parsed metadata.
type SAMLProvider struct {
	store.SAMLProvider
	Arn string
	IDP *samlsp.IDPMetadata
}

// SAMLProviderInput creates a SAML provider; the metadata comes as XML or
// Base64 (EncodedSAMLMetadataDocument), exactly one of them.
type SAMLProviderInput struct {
	Name            string
	Description     string
	MetadataXML     string
	EncodedMetadata string
}

// SAMLProviderUpdate changes a SAML provider; nil fields keep their value.
type SAMLProviderUpdate struct {
	MetadataXML     *string
	EncodedMetadata *string
	Description     *string
}

// OIDCProvider is an OIDC provider with its ARN.
type OIDCProvider struct {
	store.OIDCProvider
	Arn string
}

// OIDCProviderInput creates an OIDC provider; IssuanceLimitTime 0 is the
// default (12 hours).
type OIDCProviderInput struct {
	Name              string
	IssuerURL         string
	Description       string
	ClientIDs         []string
	Fingerprints      []string
	IssuanceLimitTime int
}

// OIDCProviderUpdate changes an OIDC provider; nil fields keep their value.
// ClientIDs and Fingerprints replace the lists.
type OIDCProviderUpdate struct {
	ClientIDs         *[]string
	Fingerprints      *[]string
	IssuanceLimitTime *int
	Description       *string
}

// providerNameRE is a provider's name: 1–128 letters, digits, periods,
// underscores and hyphens, starting and ending with a letter or digit.
var providerNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$`)

// clientIDRE is an OIDC client id: up to 128 of [A-Za-z0-9._:/-], starting
// with a letter or digit.
var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)

// fingerprintRE is a SHA-1 fingerprint, 40 hex digits.
var fingerprintRE = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

// dnsLabelRE is one label of a DNS name (RFC 1123).
var dnsLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

const (
	maxProviderDescription = 256
	maxIssuerURL           = 255
	maxIssuanceLimitTime   = 168
	providerKindSAML       = "saml-provider"
	providerKindOIDC       = "oidc-provider"
)

// providerResource is what the ram: provider actions act on (kind
// saml-provider or oidc-provider; name "*" for every provider).
func providerResource(acct, kind, name string) Resource {
	return Resource{"acs:ram:*:" + acct + ":" + kind + "/" + name}
}

// fedEvent is the audit event of a federation change: eventSource ims when
// made through the IMS API.
func (s *Service) fedEvent(ctx context.Context, a Actor, acct, name, resource string, params map[string]any) *store.Event {
	ev := s.change(ctx, a, acct, name, resource, params)
	if a.API {
		ev.EventSource = "ims"
	}
	return ev
}

// refuseFed records a refused federation operation (authorize has recorded
// a NoPermission already).
func (s *Service) refuseFed(ctx context.Context, a Actor, acct, name, resource string, err error) error {
	e, ok := AsError(err)
	if !ok || e.Code == "NoPermission" || e.Kind == EAUTH {
		return err
	}
	if rerr := s.record(ctx, failEvent(s.fedEvent(ctx, a, acct, name, resource, nil), e.Code, e.Detail())); rerr != nil {
		return rerr
	}
	return err
}

// metadataDigest is how the audit log records a metadata document.
func metadataDigest(xml string) string {
	if xml == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(xml))
	return hex.EncodeToString(sum[:])
}

// decodeMetadata reads Base64 metadata (line breaks and spaces allowed).
func decodeMetadata(b64 string) (string, bool) {
	doc, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil || !utf8.Valid(doc) {
		return "", false
	}
	return string(doc), true
}

// checkMetadata parses an IdP's metadata, adding code to fe when unusable.
func checkMetadata(fe *fieldErrors, code, xml string) *samlsp.IDPMetadata {
	if strings.TrimSpace(xml) == "" {
		fe.add("metadata", code, "Give the identity provider's SAML 2.0 metadata.")
		return nil
	}
	if n := utf8.RuneCountInString(xml); n > MaxMetadataLength {
		fe.add("metadata", code, "The metadata is %d characters long; at most %d are allowed.", n, MaxMetadataLength)
		return nil
	}
	md, err := samlsp.ParseIDPMetadata([]byte(xml))
	if err != nil {
		fe.add("metadata", code, "The metadata cannot be used: %s.", strings.TrimSuffix(err.Error(), "."))
		return nil
	}
	return md
}

// parseStoredMetadata parses metadata that was checked when saved.
func parseStoredMetadata(xml string) *samlsp.IDPMetadata {
	if xml == "" {
		return nil
	}
	md, err := samlsp.ParseIDPMetadata([]byte(xml))
	if err != nil {
		return nil
	}
	return md
}

func checkProviderName(fe *fieldErrors, code, name string) {
	if !providerNameRE.MatchString(name) {
		fe.add("name", code, "Use 1 to 128 letters, digits, periods, underscores and hyphens, starting and ending with a letter or digit.")
	}
}

func checkProviderDescription(fe *fieldErrors, d string) {
	if utf8.RuneCountInString(d) > maxProviderDescription || !utf8.ValidString(d) ||
		strings.ContainsFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		fe.add("description", "InvalidParameter.Description", "Use at most %d printable characters.", maxProviderDescription)
	}
}

// checkAuxiliaryDomain checks a DNS name (RFC 1123): at most 255
// characters, at least two labels.
func checkAuxiliaryDomain(fe *fieldErrors, d string) {
	labels := strings.Split(d, ".")
	ok := len(d) <= 255 && len(labels) >= 2
	for _, l := range labels {
		ok = ok && dnsLabelRE.MatchString(l)
	}
	if !ok {
		fe.add("auxiliary_domain", "InvalidParameter.AuxiliaryDomain", "Give a DNS name such as example.com (letters, digits and hyphens, labels separated by dots).")
	}
}

// GetUserSSOSettings returns the setting (ram:GetUserSsoSettings).
func (s *Service) GetUserSSOSettings(ctx context.Context, a Actor) (*UserSSO, error) {
	if err := s.authorize(ctx, a, ActionGetUserSsoSettings, anyResource); err != nil {
		return nil, err
	}
	return s.CurrentUserSSO(ctx)
}

// CurrentUserSSO returns the setting without authorisation (for sign-in).
func (s *Service) CurrentUserSSO(ctx context.Context) (*UserSSO, error) {
	set, err := s.st.UserSSOSettings(ctx)
	if err != nil {
		return nil, err
	}
	return userSSO(set), nil
}

func userSSO(set *store.UserSSOSettings) *UserSSO {
	out := &UserSSO{Settings: *set}
	if set.MetadataDocument != "" {
		out.MetadataXML, _ = decodeMetadata(set.MetadataDocument)
		out.IDP = parseStoredMetadata(out.MetadataXML)
	}
	return out
}

// SetUserSSOSettings changes the setting (ram:SetUserSsoSettings). Turning
// SSO off or changing the metadata ends every SSO console session (§18.11).
func (s *Service) SetUserSSOSettings(ctx context.Context, a Actor, in UserSSOInput) (*UserSSO, error) {
	acct := s.accountID(ctx)
	const name = "SetUserSsoSettings"
	if err := s.authorize(ctx, a, ActionSetUserSsoSettings, anyResource); err != nil {
		return nil, err
	}
	var out *UserSSO
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		old, err := tx.UserSSOSettings(ctx)
		if err != nil {
			return err
		}
		set := *old
		var fe fieldErrors
		switch {
		case in.MetadataDocument != nil && in.MetadataXML != nil:
			fe.add("metadata", "InvalidParameter.MetadataDocument", "Give the metadata once: as Base64 or as XML.")
		case in.MetadataDocument != nil:
			set.MetadataDocument = *in.MetadataDocument
		case in.MetadataXML != nil:
			set.MetadataDocument = ""
			if strings.TrimSpace(*in.MetadataXML) != "" {
				set.MetadataDocument = base64.StdEncoding.EncodeToString([]byte(*in.MetadataXML))
			}
		}
		xml := ""
		if set.MetadataDocument != "" {
			var ok bool
			if xml, ok = decodeMetadata(set.MetadataDocument); !ok {
				fe.add("metadata", "InvalidParameter.MetadataDocument", "MetadataDocument is not Base64 of a UTF-8 document.")
			} else if set.MetadataDocument != old.MetadataDocument {
				checkMetadata(&fe, "InvalidParameter.MetadataDocument", xml)
			}
		}
		if in.SsoEnabled != nil {
			set.SsoEnabled = *in.SsoEnabled
		}
		if set.SsoEnabled && set.MetadataDocument == "" {
			fe.add("metadata", "InvalidParameter.MetadataDocument", "Single sign-on needs the identity provider's metadata; give it to turn SSO on.")
		}
		if in.AuxiliaryDomain != nil {
			set.AuxiliaryDomain = strings.TrimSpace(*in.AuxiliaryDomain)
			if set.AuxiliaryDomain != "" {
				checkAuxiliaryDomain(&fe, set.AuxiliaryDomain)
			}
		}
		if in.SsoLoginWithDomain != nil {
			set.SsoLoginWithDomain = *in.SsoLoginWithDomain
		}
		if err := fe.err(); err != nil {
			return err
		}
		if err := tx.PutUserSSOSettings(ctx, &set); err != nil {
			return err
		}
		if old.SsoEnabled && !set.SsoEnabled || set.MetadataDocument != old.MetadataDocument {
			if err := s.endSSOSessions(ctx, tx); err != nil {
				return err
			}
		}
		out = userSSO(&set)
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, name, "*", map[string]any{"SsoEnabled": set.SsoEnabled,
			"MetadataSha256": metadataDigest(xml), "AuxiliaryDomain": set.AuxiliaryDomain, "SsoLoginWithDomain": set.SsoLoginWithDomain}))
	})
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, name, "*", err)
	}
	return out, nil
}

// authorizeProvider authorises action on the stored provider of a kind
// named name (any case; find returns its stored name) and returns the
// AccountId, or the refusal (EntityNotExist.<SAML|OIDC>Provider when there
// is none).
func (s *Service) authorizeProvider(ctx context.Context, a Actor, action, kind, name string, find func(string) (string, error)) (string, error) {
	acct := s.accountID(ctx)
	err := store.ErrNotFound
	if providerNameRE.MatchString(name) {
		var stored string
		if stored, err = find(name); err == nil {
			name = stored
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return acct, err
	}
	if authErr := s.authorize(ctx, a, action, providerResource(acct, kind, name)); authErr != nil {
		return acct, authErr
	}
	if err != nil {
		if kind == providerKindSAML {
			return acct, notFound("EntityNotExist.SAMLProvider", "SAML provider "+name)
		}
		return acct, notFound("EntityNotExist.OIDCProvider", "OIDC provider "+name)
	}
	return acct, nil
}

func (s *Service) samlProvider(ctx context.Context, p *store.SAMLProvider) *SAMLProvider {
	return &SAMLProvider{SAMLProvider: *p, Arn: SAMLProviderARN(s.accountID(ctx), p.Name), IDP: parseStoredMetadata(p.Metadata)}
}

// findSAMLProvider authorises action on a SAML provider and returns it.
func (s *Service) findSAMLProvider(ctx context.Context, a Actor, action, name string) (string, *store.SAMLProvider, error) {
	var p *store.SAMLProvider
	acct, err := s.authorizeProvider(ctx, a, action, providerKindSAML, name, func(n string) (stored string, err error) {
		if p, err = s.st.SAMLProviderByName(ctx, n); err != nil {
			return "", err
		}
		return p.Name, nil
	})
	if err != nil {
		return acct, nil, err
	}
	return acct, p, nil
}

// samlMetadata is the XML of metadata given as XML or Base64 (one of them).
func samlMetadata(fe *fieldErrors, xml, encoded *string) string {
	const code = "InvalidParameter.EncodedSAMLMetadataDocument"
	switch {
	case xml != nil && encoded != nil:
		fe.add("metadata", code, "Give the metadata once: EncodedSAMLMetadataDocument (Base64) or SAMLMetadataDocument (XML).")
	case encoded != nil:
		doc, ok := decodeMetadata(*encoded)
		if !ok {
			fe.add("metadata", code, "EncodedSAMLMetadataDocument is not Base64 of a UTF-8 document.")
			return ""
		}
		checkMetadata(fe, code, doc)
		return doc
	case xml != nil:
		checkMetadata(fe, code, *xml)
		return *xml
	default:
		checkMetadata(fe, code, "")
	}
	return ""
}

func samlParams(p *store.SAMLProvider) map[string]any {
	return map[string]any{"SAMLProviderName": p.Name, "Description": p.Description, "MetadataSha256": metadataDigest(p.Metadata)}
}

// optString is nil for "", else &v.
func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// CreateSAMLProvider adds a SAML provider (ram:CreateSAMLProvider).
func (s *Service) CreateSAMLProvider(ctx context.Context, a Actor, in SAMLProviderInput) (*SAMLProvider, error) {
	acct := s.accountID(ctx)
	const event = "CreateSAMLProvider"
	in.Name = strings.TrimSpace(in.Name)
	target := in.Name
	if !providerNameRE.MatchString(target) {
		target = "*"
	}
	res := providerResource(acct, providerKindSAML, target).arn
	if err := s.authorize(ctx, a, ActionCreateSAMLProvider, Resource{res}); err != nil {
		return nil, err
	}
	var fe fieldErrors
	checkProviderName(&fe, "InvalidParameter.SAMLProviderName", in.Name)
	checkProviderDescription(&fe, in.Description)
	xml := samlMetadata(&fe, optString(in.MetadataXML), optString(in.EncodedMetadata))
	if err := fe.err(); err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	p := &store.SAMLProvider{ProviderID: newID(19), Name: in.Name, Description: in.Description, Metadata: xml}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		switch err := tx.CreateSAMLProvider(ctx, p, MaxSAMLProviders); {
		case errors.Is(err, store.ErrConflict):
			return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.SAMLProvider", Message: "A SAML provider named " + in.Name + " exists already.",
				Fields: map[string]string{"name": "A SAML provider of this name exists already."}}
		case errors.Is(err, store.ErrLimitExceeded):
			return limit("LimitExceeded.SAMLProvider", fmt.Sprintf("The account has %d SAML providers, the most it may have.", MaxSAMLProviders))
		case err != nil:
			return err
		}
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, event, res, samlParams(p)))
	})
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	return s.samlProvider(ctx, p), nil
}

// GetSAMLProvider returns a SAML provider by name (ram:GetSAMLProvider).
func (s *Service) GetSAMLProvider(ctx context.Context, a Actor, name string) (*SAMLProvider, error) {
	_, p, err := s.findSAMLProvider(ctx, a, ActionGetSAMLProvider, name)
	if err != nil {
		return nil, err
	}
	return s.samlProvider(ctx, p), nil
}

// ListSAMLProviders lists the SAML providers by name (ram:ListSAMLProviders).
func (s *Service) ListSAMLProviders(ctx context.Context, a Actor) ([]SAMLProvider, error) {
	if err := s.authorize(ctx, a, ActionListSAMLProviders, providerResource(s.accountID(ctx), providerKindSAML, "*")); err != nil {
		return nil, err
	}
	list, err := s.st.SAMLProviders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SAMLProvider, len(list))
	for i := range list {
		out[i] = *s.samlProvider(ctx, &list[i])
	}
	return out, nil
}

// UpdateSAMLProvider changes a SAML provider (ram:UpdateSAMLProvider).
func (s *Service) UpdateSAMLProvider(ctx context.Context, a Actor, name string, upd SAMLProviderUpdate) (*SAMLProvider, error) {
	const event = "UpdateSAMLProvider"
	acct, p, err := s.findSAMLProvider(ctx, a, ActionUpdateSAMLProvider, name)
	if p != nil {
		name = p.Name
	}
	res := providerResource(acct, providerKindSAML, name).arn
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	var fe fieldErrors
	if upd.Description != nil {
		checkProviderDescription(&fe, *upd.Description)
	}
	var metadata string
	if upd.MetadataXML != nil || upd.EncodedMetadata != nil {
		metadata = samlMetadata(&fe, upd.MetadataXML, upd.EncodedMetadata)
	}
	if err := fe.err(); err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		// Changed as it is now, in this transaction: a concurrent change
		// of the field this one leaves alone (a rotated certificate) stays.
		cur, err := tx.SAMLProvider(ctx, p.ProviderID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.SAMLProvider", "SAML provider "+name)
		} else if err != nil {
			return err
		}
		if upd.Description != nil {
			cur.Description = *upd.Description
		}
		if metadata != "" {
			cur.Metadata = metadata
		}
		if err := tx.UpdateSAMLProvider(ctx, cur); err != nil {
			return err
		}
		p = cur
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, event, res, samlParams(p)))
	})
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	return s.samlProvider(ctx, p), nil
}

// DeleteSAMLProvider deletes a SAML provider and ends every role session
// started through it (ram:DeleteSAMLProvider).
func (s *Service) DeleteSAMLProvider(ctx context.Context, a Actor, name string) error {
	const event = "DeleteSAMLProvider"
	acct, p, err := s.findSAMLProvider(ctx, a, ActionDeleteSAMLProvider, name)
	if p != nil {
		name = p.Name
	}
	res := providerResource(acct, providerKindSAML, name).arn
	if err != nil {
		return s.refuseFed(ctx, a, acct, event, res, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSAMLProvider(ctx, p.ProviderID); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.SAMLProvider", "SAML provider "+name)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteRoleSessionsFrom(ctx, FederatedSource(providerKindSAML, p.ProviderID)); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, event, res, map[string]any{"SAMLProviderName": p.Name}))
	})
	if err != nil {
		return s.refuseFed(ctx, a, acct, event, res, err)
	}
	return nil
}

func (s *Service) oidcProvider(ctx context.Context, p *store.OIDCProvider) *OIDCProvider {
	return &OIDCProvider{OIDCProvider: *p, Arn: OIDCProviderARN(s.accountID(ctx), p.Name)}
}

// checkIssuerURL checks an OIDC issuer URL: https, at most 255
// characters, a host, no userinfo, query or fragment.
func checkIssuerURL(fe *fieldErrors, raw string) {
	u, err := url.Parse(raw)
	switch {
	case raw == "" || len(raw) > maxIssuerURL:
		fe.add("issuer_url", "InvalidParameter.IssuerUrl", "Give the issuer's URL, at most %d characters.", maxIssuerURL)
	case err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		fe.add("issuer_url", "InvalidParameter.IssuerUrl", "The issuer URL must be an https:// URL.")
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#@"):
		fe.add("issuer_url", "InvalidParameter.IssuerUrl", "The issuer URL may not have a user, a query or a fragment.")
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		fe.add("issuer_url", "InvalidParameter.IssuerUrl", "The issuer URL has spaces or control characters.")
	}
}

// checkClientIDs checks a list of client ids (each at most once).
func checkClientIDs(fe *fieldErrors, ids []string) {
	if len(ids) > MaxOIDCClientIDs {
		fe.add("client_ids", "LimitExceeded.OIDCProvider.ClientId", "An OIDC provider has at most %d client IDs.", MaxOIDCClientIDs)
		return
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !clientIDRE.MatchString(id) {
			fe.add("client_ids", "InvalidParameter.ClientIds", "%q is not a client ID: use up to 128 letters, digits and . _ : / -, starting with a letter or digit.", truncate(id, 140))
			return
		}
		if seen[id] {
			fe.add("client_ids", "InvalidParameter.ClientIds", "%q is listed twice.", id)
			return
		}
		seen[id] = true
	}
}

// normaliseFingerprints checks a list of fingerprints (1 to 5, each once)
// and returns it lowercase.
func normaliseFingerprints(fe *fieldErrors, fps []string) []string {
	out := make([]string, 0, len(fps))
	switch {
	case len(fps) == 0:
		fe.add("fingerprints", "InvalidParameter.Fingerprints", "Give at least one fingerprint of the issuer's certificate.")
		return nil
	case len(fps) > MaxOIDCFingerprints:
		fe.add("fingerprints", "LimitExceeded.OIDCProvider.Fingerprint", "An OIDC provider has at most %d fingerprints.", MaxOIDCFingerprints)
		return nil
	}
	for _, fp := range fps {
		fp = strings.ToLower(fp)
		if !fingerprintRE.MatchString(fp) {
			fe.add("fingerprints", "InvalidParameter.Fingerprints", "%q is not a fingerprint: give the SHA-1 as 40 hex digits.", truncate(fp, 60))
			return nil
		}
		if slices.Contains(out, fp) {
			fe.add("fingerprints", "InvalidParameter.Fingerprints", "%s is listed twice.", fp)
			return nil
		}
		out = append(out, fp)
	}
	return out
}

func checkIssuanceLimit(fe *fieldErrors, hours int) {
	if hours < 1 || hours > maxIssuanceLimitTime {
		fe.add("issuance_limit_time", "InvalidParameter.IssuanceLimitTime", "Give a number of hours from 1 to %d.", maxIssuanceLimitTime)
	}
}

func oidcParams(p *store.OIDCProvider) map[string]any {
	return map[string]any{"OIDCProviderName": p.Name, "IssuerUrl": p.IssuerURL, "ClientIds": strings.Join(p.ClientIDs, ","),
		"Fingerprints": strings.Join(p.Fingerprints, ","), "IssuanceLimitTime": p.IssuanceLimitTime, "Description": p.Description}
}

// CreateOIDCProvider adds an OIDC provider (ram:CreateOIDCProvider).
func (s *Service) CreateOIDCProvider(ctx context.Context, a Actor, in OIDCProviderInput) (*OIDCProvider, error) {
	acct := s.accountID(ctx)
	const event = "CreateOIDCProvider"
	in.Name, in.IssuerURL = strings.TrimSpace(in.Name), strings.TrimSpace(in.IssuerURL)
	target := in.Name
	if !providerNameRE.MatchString(target) {
		target = "*"
	}
	res := providerResource(acct, providerKindOIDC, target).arn
	if err := s.authorize(ctx, a, ActionCreateOIDCProvider, Resource{res}); err != nil {
		return nil, err
	}
	if in.IssuanceLimitTime == 0 {
		in.IssuanceLimitTime = DefaultIssuanceLimitTime
	}
	var fe fieldErrors
	checkProviderName(&fe, "InvalidParameter.OIDCProviderName", in.Name)
	checkIssuerURL(&fe, in.IssuerURL)
	checkClientIDs(&fe, in.ClientIDs)
	fps := normaliseFingerprints(&fe, in.Fingerprints)
	checkIssuanceLimit(&fe, in.IssuanceLimitTime)
	checkProviderDescription(&fe, in.Description)
	if err := fe.err(); err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	p := &store.OIDCProvider{ProviderID: newID(19), Name: in.Name, IssuerURL: in.IssuerURL, Description: in.Description,
		ClientIDs: append([]string{}, in.ClientIDs...), Fingerprints: fps, IssuanceLimitTime: in.IssuanceLimitTime}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.OIDCProviderByIssuer(ctx, p.IssuerURL); err == nil {
			return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.OIDCProvider.Url", Message: "An OIDC provider of the issuer " + p.IssuerURL + " exists already.",
				Fields: map[string]string{"issuer_url": "An OIDC provider of this issuer exists already."}}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		switch err := tx.CreateOIDCProvider(ctx, p, MaxOIDCProviders); {
		case errors.Is(err, store.ErrConflict):
			return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.OIDCProvider", Message: "An OIDC provider named " + in.Name + " exists already.",
				Fields: map[string]string{"name": "An OIDC provider of this name exists already."}}
		case errors.Is(err, store.ErrLimitExceeded):
			return limit("LimitExceeded.OIDCProvider", fmt.Sprintf("The account has %d OIDC providers, the most it may have.", MaxOIDCProviders))
		case err != nil:
			return err
		}
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, event, res, oidcParams(p)))
	})
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	return s.oidcProvider(ctx, p), nil
}

// findOIDCProvider authorises action on an OIDC provider and returns it.
func (s *Service) findOIDCProvider(ctx context.Context, a Actor, action, name string) (string, *store.OIDCProvider, error) {
	var p *store.OIDCProvider
	acct, err := s.authorizeProvider(ctx, a, action, providerKindOIDC, name, func(n string) (stored string, err error) {
		if p, err = s.st.OIDCProviderByName(ctx, n); err != nil {
			return "", err
		}
		return p.Name, nil
	})
	if err != nil {
		return acct, nil, err
	}
	return acct, p, nil
}

// GetOIDCProvider returns an OIDC provider by name (ram:GetOIDCProvider).
func (s *Service) GetOIDCProvider(ctx context.Context, a Actor, name string) (*OIDCProvider, error) {
	_, p, err := s.findOIDCProvider(ctx, a, ActionGetOIDCProvider, name)
	if err != nil {
		return nil, err
	}
	return s.oidcProvider(ctx, p), nil
}

// ListOIDCProviders lists the OIDC providers by name (ram:ListOIDCProviders).
func (s *Service) ListOIDCProviders(ctx context.Context, a Actor) ([]OIDCProvider, error) {
	if err := s.authorize(ctx, a, ActionListOIDCProviders, providerResource(s.accountID(ctx), providerKindOIDC, "*")); err != nil {
		return nil, err
	}
	list, err := s.st.OIDCProviders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]OIDCProvider, len(list))
	for i := range list {
		out[i] = *s.oidcProvider(ctx, &list[i])
	}
	return out, nil
}

// changeOIDCProvider authorises action on an OIDC provider and applies
// change to it in one transaction, audited as event with extra parameters.
func (s *Service) changeOIDCProvider(ctx context.Context, a Actor, action, event, name string, extra map[string]any,
	change func(fe *fieldErrors, p *store.OIDCProvider)) (*OIDCProvider, error) {
	acct, p, err := s.findOIDCProvider(ctx, a, action, name)
	if p != nil {
		name = p.Name
	}
	res := providerResource(acct, providerKindOIDC, name).arn
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	var out *store.OIDCProvider
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.OIDCProvider(ctx, p.ProviderID) // as it is now, in this transaction
		if errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.OIDCProvider", "OIDC provider "+name)
		} else if err != nil {
			return err
		}
		var fe fieldErrors
		change(&fe, p)
		if err := fe.err(); err != nil {
			return err
		}
		if err := tx.UpdateOIDCProvider(ctx, p); err != nil {
			return err
		}
		params := oidcParams(p)
		for k, v := range extra {
			params[k] = v
		}
		out = p
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, event, res, params))
	})
	if err != nil {
		return nil, s.refuseFed(ctx, a, acct, event, res, err)
	}
	return s.oidcProvider(ctx, out), nil
}

// UpdateOIDCProvider changes an OIDC provider (ram:UpdateOIDCProvider).
func (s *Service) UpdateOIDCProvider(ctx context.Context, a Actor, name string, upd OIDCProviderUpdate) (*OIDCProvider, error) {
	return s.changeOIDCProvider(ctx, a, ActionUpdateOIDCProvider, "UpdateOIDCProvider", name, nil, func(fe *fieldErrors, p *store.OIDCProvider) {
		if upd.ClientIDs != nil {
			p.ClientIDs = append([]string{}, *upd.ClientIDs...)
			checkClientIDs(fe, p.ClientIDs)
		}
		if upd.Fingerprints != nil {
			p.Fingerprints = normaliseFingerprints(fe, *upd.Fingerprints)
		}
		if upd.IssuanceLimitTime != nil {
			p.IssuanceLimitTime = *upd.IssuanceLimitTime
			checkIssuanceLimit(fe, p.IssuanceLimitTime)
		}
		if upd.Description != nil {
			p.Description = *upd.Description
			checkProviderDescription(fe, p.Description)
		}
	})
}

// AddClientIDToOIDCProvider adds a client id (ram:AddClientIdToOIDCProvider).
func (s *Service) AddClientIDToOIDCProvider(ctx context.Context, a Actor, name, clientID string) (*OIDCProvider, error) {
	return s.changeOIDCProvider(ctx, a, ActionAddClientIDToOIDCProvider, "AddClientIdToOIDCProvider", name, map[string]any{"ClientId": clientID},
		func(fe *fieldErrors, p *store.OIDCProvider) {
			p.ClientIDs = append(p.ClientIDs, clientID)
			checkClientIDs(fe, p.ClientIDs)
		})
}

// RemoveClientIDFromOIDCProvider removes a client id (ram:RemoveClientIdFromOIDCProvider).
func (s *Service) RemoveClientIDFromOIDCProvider(ctx context.Context, a Actor, name, clientID string) (*OIDCProvider, error) {
	return s.changeOIDCProvider(ctx, a, ActionRemoveClientIDFromOIDCProvider, "RemoveClientIdFromOIDCProvider", name, map[string]any{"ClientId": clientID},
		func(fe *fieldErrors, p *store.OIDCProvider) {
			i := slices.Index(p.ClientIDs, clientID)
			if i < 0 {
				fe.add("client_ids", "InvalidParameter.ClientIds", "%q is not a client ID of this provider.", truncate(clientID, 140))
				return
			}
			p.ClientIDs = slices.Delete(p.ClientIDs, i, i+1)
		})
}

// AddFingerprintToOIDCProvider adds a fingerprint (ram:AddFingerprintToOIDCProvider).
func (s *Service) AddFingerprintToOIDCProvider(ctx context.Context, a Actor, name, fingerprint string) (*OIDCProvider, error) {
	return s.changeOIDCProvider(ctx, a, ActionAddFingerprintToOIDCProvider, "AddFingerprintToOIDCProvider", name, map[string]any{"Fingerprint": fingerprint},
		func(fe *fieldErrors, p *store.OIDCProvider) {
			p.Fingerprints = normaliseFingerprints(fe, append(p.Fingerprints, fingerprint))
		})
}

// RemoveFingerprintFromOIDCProvider removes a fingerprint (ram:RemoveFingerprintFromOIDCProvider).
func (s *Service) RemoveFingerprintFromOIDCProvider(ctx context.Context, a Actor, name, fingerprint string) (*OIDCProvider, error) {
	return s.changeOIDCProvider(ctx, a, ActionRemoveFingerprintFromOIDCProvider, "RemoveFingerprintFromOIDCProvider", name, map[string]any{"Fingerprint": fingerprint},
		func(fe *fieldErrors, p *store.OIDCProvider) {
			i := slices.Index(p.Fingerprints, strings.ToLower(fingerprint))
			if i < 0 {
				fe.add("fingerprints", "InvalidParameter.Fingerprints", "%q is not a fingerprint of this provider.", truncate(fingerprint, 60))
				return
			}
			p.Fingerprints = normaliseFingerprints(fe, slices.Delete(p.Fingerprints, i, i+1))
		})
}

// DeleteOIDCProvider deletes an OIDC provider and ends every role session
// started through it (ram:DeleteOIDCProvider).
func (s *Service) DeleteOIDCProvider(ctx context.Context, a Actor, name string) error {
	const event = "DeleteOIDCProvider"
	acct, p, err := s.findOIDCProvider(ctx, a, ActionDeleteOIDCProvider, name)
	if p != nil {
		name = p.Name
	}
	res := providerResource(acct, providerKindOIDC, name).arn
	if err != nil {
		return s.refuseFed(ctx, a, acct, event, res, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteOIDCProvider(ctx, p.ProviderID); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.OIDCProvider", "OIDC provider "+name)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteRoleSessionsFrom(ctx, FederatedSource(providerKindOIDC, p.ProviderID)); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.fedEvent(ctx, a, acct, event, res, map[string]any{"OIDCProviderName": p.Name, "IssuerUrl": p.IssuerURL}))
	})
	if err != nil {
		return s.refuseFed(ctx, a, acct, event, res, err)
	}
	return nil
}

// OIDCIssuerFingerprint computes the fingerprint of an issuer for the
// console's "Get fingerprint" button; it is shown, never trusted
// (authorised as ram:CreateOIDCProvider on …:oidc-provider/*).
func (s *Service) OIDCIssuerFingerprint(ctx context.Context, a Actor, issuerURL string) (string, error) {
	if err := s.authorize(ctx, a, ActionCreateOIDCProvider, providerResource(s.accountID(ctx), providerKindOIDC, "*")); err != nil {
		return "", err
	}
	issuerURL = strings.TrimSpace(issuerURL)
	var fe fieldErrors
	checkIssuerURL(&fe, issuerURL)
	if err := fe.err(); err != nil {
		return "", err
	}
	fp, err := oidcfed.Fingerprint(ctx, issuerURL, s.outboundProxyFunc())
	if err != nil {
		return "", &Error{Kind: EINVALID, Code: "InvalidParameter.IssuerUrl", Message: "The issuer's certificate could not be read.",
			Fields: map[string]string{"issuer_url": "The issuer's certificate could not be read: " + strings.TrimPrefix(err.Error(), "oidcfed: ")}}
	}
	return fp, nil
}

// RolesTrustingProvider lists the names of the roles whose trust policy
// names the provider ARN in a Federated principal (for the provider pages).
func (s *Service) RolesTrustingProvider(ctx context.Context, a Actor, providerARN string) ([]string, error) {
	if err := s.authorize(ctx, a, "ram:ListRoles", allRolesResource(s.accountID(ctx))); err != nil {
		return nil, err
	}
	var names []string
	after := ""
	for {
		roles, err := s.st.Roles(ctx, "", after, 500)
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			if trustsFederated(r.AssumeRolePolicy, providerARN) {
				names = append(names, r.RoleName)
			}
		}
		if len(roles) < 500 {
			return names, nil
		}
		after = roles[len(roles)-1].RoleName
	}
}

// trustsFederated reports whether a trust policy names arn exactly in a
// Federated principal.
func trustsFederated(doc, arn string) bool {
	d, err := parseTrustPolicy(doc)
	if err != nil {
		return false
	}
	for _, st := range d.Statements {
		if slices.Contains(st.Principal.Federated, arn) {
			return true
		}
	}
	return false
}

// ProviderPage is one page of a provider list, paged by name as the IMS
// List actions page (Marker, MaxItems 1–1000 default 100).
func ProviderPage[T any](items []T, name func(*T) string, marker string, maxItems int) (page []T, next string, truncated bool, err error) {
	size, after, err := pageArgs(maxItems, marker)
	if err != nil {
		return nil, "", false, err
	}
	start := 0
	if after != "" {
		start = len(items)
		for i := range items {
			if strings.ToLower(name(&items[i])) > strings.ToLower(after) {
				start = i
				break
			}
		}
	}
	page = items[start:]
	if len(page) > size {
		return page[:size], encodeMarker(name(&page[size-1])), true, nil
	}
	return page, "", false, nil
}

// SetOutboundProxy sets the proxy of outbound fetches (--outbound-proxy);
// nil connects directly. HTTP(S)_PROXY are never read.
func (s *Service) SetOutboundProxy(u *url.URL) { s.outboundProxy.Store(u) }

// outboundProxyFunc is the proxy function outbound HTTP clients use.
func (s *Service) outboundProxyFunc() func(*http.Request) (*url.URL, error) {
	u := s.outboundProxy.Load()
	if u == nil {
		return nil
	}
	return http.ProxyURL(u)
}
