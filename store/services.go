package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ResourceService is a stored resource service (SPEC §13): its definition's
// canonical JSON, the columns lists show, and its hosts (lower-case).
type ResourceService struct {
	Code       string
	Name       string
	Region     string
	Style      string
	Definition string
	Hosts      []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const serviceColumns = `s.code, s.name, s.region, s.style, s.definition, s.created_at, s.updated_at,
	COALESCE((SELECT group_concat(host_lower, ' ') FROM (SELECT host_lower FROM service_hosts h WHERE h.code = s.code ORDER BY host_lower) hosts), '')`

func scanService(scan func(...any) error) (*ResourceService, error) {
	var sv ResourceService
	var created, updated, hosts string
	err := scan(&sv.Code, &sv.Name, &sv.Region, &sv.Style, &sv.Definition, &created, &updated, &hosts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: service: %w", err)
	}
	sv.CreatedAt, sv.UpdatedAt = parseTime(created), parseTime(updated)
	sv.Hosts = strings.Fields(hosts)
	return &sv, nil
}

// ResourceService returns a service by code (codes are lower-case; the
// code asked for is compared lower-cased).
func (r Reads) ResourceService(ctx context.Context, code string) (*ResourceService, error) {
	return scanService(r.queryRow(ctx, "SELECT "+serviceColumns+" FROM services s WHERE s.code = ?", strings.ToLower(code)).Scan)
}

// ResourceServices returns a page of services ordered by code, after the
// code after (keyset paging).
func (r Reads) ResourceServices(ctx context.Context, after string, limit int) ([]ResourceService, error) {
	rows, err := r.query(ctx, "SELECT "+serviceColumns+" FROM services s WHERE s.code > ? ORDER BY s.code LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: services: %w", err)
	}
	return collect(rows, scanService)
}

// ServiceCodeForHost returns the code of the service a host belongs to;
// ErrNotFound when none.
func (r Reads) ServiceCodeForHost(ctx context.Context, host string) (string, error) {
	var code string
	err := r.queryRow(ctx, "SELECT code FROM service_hosts WHERE host_lower = ?", strings.ToLower(host)).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: service host: %w", err)
	}
	return code, nil
}

// CreateResourceService inserts a service and its hosts; ErrConflict when
// the code or a host is taken (check hosts first to say which).
func (tx *Tx) CreateResourceService(ctx context.Context, sv *ResourceService) error {
	now := timeText(tx.now)
	_, err := tx.ExecContext(ctx, "INSERT INTO services(code, name, region, style, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		sv.Code, sv.Name, sv.Region, sv.Style, sv.Definition, now, now)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create service %q: %w", sv.Code, err)
	}
	if err := tx.insertServiceHosts(ctx, sv); err != nil {
		return err
	}
	sv.CreatedAt, sv.UpdatedAt = tx.now, tx.now
	return nil
}

// ReplaceResourceService replaces an existing service's definition and
// hosts.
func (tx *Tx) ReplaceResourceService(ctx context.Context, sv *ResourceService) error {
	res, err := tx.ExecContext(ctx, "UPDATE services SET name = ?, region = ?, style = ?, definition = ?, updated_at = ? WHERE code = ?",
		sv.Name, sv.Region, sv.Style, sv.Definition, timeText(tx.now), sv.Code)
	if err != nil {
		return fmt.Errorf("store: update service %q: %w", sv.Code, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM service_hosts WHERE code = ?", sv.Code); err != nil {
		return fmt.Errorf("store: update service %q: %w", sv.Code, err)
	}
	if err := tx.insertServiceHosts(ctx, sv); err != nil {
		return err
	}
	sv.UpdatedAt = tx.now
	return nil
}

func (tx *Tx) insertServiceHosts(ctx context.Context, sv *ResourceService) error {
	for _, h := range sv.Hosts {
		_, err := tx.ExecContext(ctx, "INSERT INTO service_hosts(host_lower, code) VALUES (?, ?)", strings.ToLower(h), sv.Code)
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return fmt.Errorf("store: service host %q: %w", h, err)
		}
	}
	return nil
}

// DeleteResourceService removes a service (its hosts cascade).
func (tx *Tx) DeleteResourceService(ctx context.Context, code string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM services WHERE code = ?", code); err != nil {
		return fmt.Errorf("store: delete service: %w", err)
	}
	return nil
}
