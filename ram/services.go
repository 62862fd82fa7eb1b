package ram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"ramconsole/store"
)

// ResourceService is a stored resource service (SPEC §13): its parsed
// definition and its canonical JSON.
type ResourceService struct {
	*ServiceDef
	Definition string // the canonical JSON: what export gives
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Gateway actions (SPEC §13).
const (
	ActionCreateService = "gateway:CreateService"
	ActionGetService    = "gateway:GetService"
	ActionListServices  = "gateway:ListServices"
	ActionUpdateService = "gateway:UpdateService"
	ActionDeleteService = "gateway:DeleteService"
)

// canonicalService parses and validates a definition and returns it in its
// canonical form: hosts lower-case, the region * when none is given, the
// JSON indented with sorted resource keys.
func canonicalService(text string) (*ServiceDef, *store.ResourceService, error) {
	d, err := ParseServiceDef(text)
	if err != nil {
		return nil, nil, err
	}
	for i, h := range d.Hosts {
		d.Hosts[i] = strings.ToLower(h)
	}
	if d.Region == "" {
		d.Region = "*"
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return d, &store.ResourceService{Code: d.Code, Name: d.Name, Region: d.Region, Style: d.Style, Definition: string(b) + "\n",
		Hosts: d.Hosts}, nil
}

// toResourceService parses a stored service.
func toResourceService(sv *store.ResourceService) (*ResourceService, error) {
	d, err := ParseServiceDef(sv.Definition)
	if err != nil {
		return nil, fmt.Errorf("ram: stored service %s does not parse: %w", sv.Code, err)
	}
	return &ResourceService{ServiceDef: d, Definition: sv.Definition, CreatedAt: sv.CreatedAt, UpdatedAt: sv.UpdatedAt}, nil
}

func serviceNotFound() *Error { return notFound("EntityNotExist.Service", "service") }

// definitionError is a refusal of a definition, shown next to its text.
func definitionError(kind, code, msg string) *Error {
	return &Error{Kind: kind, Code: code, Message: msg, Fields: map[string]string{"definition": msg}}
}

// gatewayEvent is the event of a change to a resource service.
func (s *Service) gatewayEvent(ctx context.Context, a Actor, acct, name, code string, params map[string]any) *store.Event {
	ev := s.change(ctx, a, acct, name, code, params)
	ev.EventSource, ev.ServiceName = "gateway", "Gateway"
	return ev
}

// refuseService records a refused change to a service (authorize has
// recorded a NoPermission already).
func (s *Service) refuseService(ctx context.Context, a Actor, acct, name, code string, err error) error {
	e, ok := AsError(err)
	if !ok || e.Code == "NoPermission" || e.Kind == EAUTH {
		return err
	}
	ev := s.gatewayEvent(ctx, a, acct, name, code, nil)
	if rerr := s.record(ctx, failEvent(ev, e.Code, e.Message)); rerr != nil {
		return rerr
	}
	return err
}

// authorizeService authorises action on the service's stored ARN and
// returns the service; a code that matches nothing is authorised as
// spelled, then is EntityNotExist.Service.
func (s *Service) authorizeService(ctx context.Context, a Actor, action, code string) (string, *store.ResourceService, error) {
	acct := s.accountID(ctx)
	if !serviceCodeRE.MatchString(strings.ToLower(code)) {
		return acct, nil, serviceNotFound()
	}
	res, sv, err := s.lookupService(ctx, s.st.Reads, acct, code)
	if err != nil {
		return acct, nil, err
	}
	if err := s.authorize(ctx, a, action, res); err != nil {
		return acct, nil, err
	}
	if sv == nil {
		return acct, nil, serviceNotFound()
	}
	return acct, sv, nil
}

// checkHosts refuses hosts another service owns, naming the first.
func checkHosts(ctx context.Context, tx *store.Tx, sv *store.ResourceService) error {
	for i, h := range sv.Hosts {
		owner, err := tx.ServiceCodeForHost(ctx, h)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if owner != sv.Code {
			return definitionError(ECONFLICT, "EntityAlreadyExists.Service.Host",
				fmt.Sprintf("hosts[%d]: %q already belongs to service %s", i, h, owner))
		}
	}
	return nil
}

func serviceParams(sv *store.ResourceService) map[string]any {
	return map[string]any{"Code": sv.Code, "Name": sv.Name, "Hosts": sv.Hosts, "Region": sv.Region, "Style": sv.Style}
}

// CreateService creates a resource service from its definition's JSON.
func (s *Service) CreateService(ctx context.Context, a Actor, text string) (*ResourceService, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, ActionCreateService, allServicesResource(acct)); err != nil {
		return nil, err
	}
	_, sv, err := canonicalService(text)
	if err != nil {
		return nil, s.refuseService(ctx, a, acct, "CreateService", "", err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.ResourceService(ctx, sv.Code); err == nil {
			return definitionError(ECONFLICT, "EntityAlreadyExists.Service", fmt.Sprintf("code: service %s already exists", sv.Code))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.putService(ctx, tx, a, acct, sv, false, false)
	})
	if err != nil {
		return nil, s.refuseService(ctx, a, acct, "CreateService", sv.Code, err)
	}
	return toResourceService(sv)
}

// putService writes a service (replace: over the existing one) and its
// event (host: a host command's, eventSource host).
func (s *Service) putService(ctx context.Context, tx *store.Tx, a Actor, acct string, sv *store.ResourceService, replace, host bool) error {
	if err := checkHosts(ctx, tx, sv); err != nil {
		return err
	}
	name, write := "CreateService", tx.CreateResourceService
	if replace {
		name, write = "UpdateService", tx.ReplaceResourceService
	}
	if err := write(ctx, sv); errors.Is(err, store.ErrConflict) {
		return conflict("Conflict.Service", "The service or one of its hosts changed meanwhile. Try again.")
	} else if err != nil {
		return err
	}
	ev := s.gatewayEvent(ctx, a, acct, name, sv.Code, serviceParams(sv))
	if host {
		ev = s.hostEvent(ctx, a, acct, name)
		ev.ResourceName, ev.RequestParameters = sv.Code, serviceParams(sv)
	}
	return tx.AppendEvent(ctx, ev)
}

// HostImportService is ImportService from the host (`ramconsole service
// import`): by the owner, recorded with eventSource host.
func (s *Service) HostImportService(ctx context.Context, a Actor, text string) (rs *ResourceService, created bool, err error) {
	acct := s.accountID(ctx)
	if acct == "" {
		return nil, false, errNoAccount
	}
	_, sv, err := canonicalService(text)
	if err != nil {
		return nil, false, err
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.ResourceService(ctx, sv.Code)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		created = err != nil
		return s.putService(ctx, tx, a, acct, sv, !created, true)
	})
	if err != nil {
		return nil, false, err
	}
	rs, err = toResourceService(sv)
	return rs, created, err
}

// ImportService creates a service from its definition, or replaces the
// definition of the service with its code. created says which.
func (s *Service) ImportService(ctx context.Context, a Actor, text string) (rs *ResourceService, created bool, err error) {
	acct := s.accountID(ctx)
	_, sv, perr := canonicalService(text)
	if perr != nil {
		// Nothing names a service: the import is judged as a creation.
		if err := s.authorize(ctx, a, ActionCreateService, allServicesResource(acct)); err != nil {
			return nil, false, err
		}
		return nil, false, s.refuseService(ctx, a, acct, "CreateService", "", perr)
	}
	res, existing, err := s.lookupService(ctx, s.st.Reads, acct, sv.Code)
	if err != nil {
		return nil, false, err
	}
	action, event := ActionUpdateService, "UpdateService"
	if existing == nil {
		action, event, res = ActionCreateService, "CreateService", allServicesResource(acct)
	}
	if err := s.authorize(ctx, a, action, res); err != nil {
		return nil, false, err
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.ResourceService(ctx, sv.Code)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if exists != (existing != nil) {
			return conflict("Conflict.Service", "The service was created or deleted meanwhile. Try again.")
		}
		return s.putService(ctx, tx, a, acct, sv, exists, false)
	})
	if err != nil {
		return nil, false, s.refuseService(ctx, a, acct, event, sv.Code, err)
	}
	rs, err = toResourceService(sv)
	return rs, existing == nil, err
}

// GetService returns a service.
func (s *Service) GetService(ctx context.Context, a Actor, code string) (*ResourceService, error) {
	_, sv, err := s.authorizeService(ctx, a, ActionGetService, code)
	if err != nil {
		return nil, err
	}
	return toResourceService(sv)
}

// ExportService returns a service's definition, the JSON import takes.
func (s *Service) ExportService(ctx context.Context, a Actor, code string) (string, error) {
	_, sv, err := s.authorizeService(ctx, a, ActionGetService, code)
	if err != nil {
		return "", err
	}
	return sv.Definition, nil
}

// UpdateService replaces a service's definition; the definition's code must
// be the service's.
func (s *Service) UpdateService(ctx context.Context, a Actor, code, text string) (*ResourceService, error) {
	acct, target, err := s.authorizeService(ctx, a, ActionUpdateService, code)
	if err != nil {
		return nil, s.refuseService(ctx, a, acct, "UpdateService", code, err)
	}
	_, sv, err := canonicalService(text)
	if err == nil && sv.Code != target.Code {
		err = definitionError(EINVALID, "InvalidParameter.Definition",
			fmt.Sprintf("code: the definition is of service %s, not %s", sv.Code, target.Code))
	}
	if err != nil {
		return nil, s.refuseService(ctx, a, acct, "UpdateService", target.Code, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error { return s.putService(ctx, tx, a, acct, sv, true, false) })
	if errors.Is(err, store.ErrNotFound) {
		err = serviceNotFound()
	}
	if err != nil {
		return nil, s.refuseService(ctx, a, acct, "UpdateService", target.Code, err)
	}
	return toResourceService(sv)
}

// DeleteService deletes a service.
func (s *Service) DeleteService(ctx context.Context, a Actor, code string) error {
	acct, target, err := s.authorizeService(ctx, a, ActionDeleteService, code)
	if err != nil {
		return s.refuseService(ctx, a, acct, "DeleteService", code, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.ResourceService(ctx, target.Code); errors.Is(err, store.ErrNotFound) {
			return serviceNotFound()
		} else if err != nil {
			return err
		}
		if err := tx.DeleteResourceService(ctx, target.Code); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.gatewayEvent(ctx, a, acct, "DeleteService", target.Code, map[string]any{"Code": target.Code}))
	})
	if err != nil {
		return s.refuseService(ctx, a, acct, "DeleteService", target.Code, err)
	}
	return nil
}

// ServicePage is one page of services.
type ServicePage struct {
	Services    []ResourceService
	Marker      string
	IsTruncated bool
}

// ListServices returns a page of services ordered by code.
func (s *Service) ListServices(ctx context.Context, a Actor, marker string, maxItems int) (*ServicePage, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, ActionListServices, allServicesResource(acct)); err != nil {
		return nil, err
	}
	size, after, err := pageArgs(maxItems, marker)
	if err != nil {
		return nil, err
	}
	svs, err := s.st.ResourceServices(ctx, after, size+1)
	if err != nil {
		return nil, err
	}
	page := &ServicePage{}
	for i := range svs {
		if i == size {
			page.IsTruncated, page.Marker = true, encodeMarker(svs[size-1].Code)
			break
		}
		rs, err := toResourceService(&svs[i])
		if err != nil {
			return nil, err
		}
		page.Services = append(page.Services, *rs)
	}
	return page, nil
}

// cachedHostService is a host's service definition, read at a store
// generation.
type cachedHostService struct {
	gen uint64
	def *ServiceDef
}

// ServiceForHost returns the definition of the service a request's host
// belongs to, for the gateway (which authorises the request itself). The
// host is compared case-insensitively and without its port. The definition
// is shared: callers must not change it. No service: EntityNotExist.Service.
func (s *Service) ServiceForHost(ctx context.Context, host string) (*ServiceDef, error) {
	host = strings.ToLower(strings.TrimSpace(host))
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	gen := s.st.Generation()
	if v, ok := s.hostServices.Load(host); ok {
		if c := v.(*cachedHostService); c.gen == gen {
			return c.def, nil
		}
	}
	code, err := s.st.ServiceCodeForHost(ctx, host)
	if errors.Is(err, store.ErrNotFound) {
		s.hostServices.Delete(host)
		return nil, serviceNotFound()
	}
	if err != nil {
		return nil, err
	}
	sv, err := s.st.ResourceService(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, serviceNotFound() // deleted meanwhile
	}
	if err != nil {
		return nil, err
	}
	rs, err := toResourceService(sv)
	if err != nil {
		return nil, err
	}
	s.hostServices.Store(host, &cachedHostService{gen: gen, def: rs.ServiceDef})
	return rs.ServiceDef, nil
}

// UsageRow is one line of a service's usage: the gateway's decisions for a
// day, action and operator. The account pays for all of them.
type UsageRow = store.UsageRow

// EventExportServiceUsage is the event of a usage export.
const EventExportServiceUsage = "ExportServiceUsage"

// usageDays are the periods the usage page offers, in days.
var usageDays = map[int]bool{1: true, 7: true, 30: true, 90: true}

// ServiceUsage sums the gateway's decisions for the service over the last
// days days (1, 7, 30 or 90), newest day first. It reads the audit log, so it
// needs actiontrail:LookupEvents as well as gateway:GetService on the
// service. An export (export true) is recorded, as audit exports are.
func (s *Service) ServiceUsage(ctx context.Context, a Actor, code string, days int, export bool) ([]UsageRow, error) {
	if !usageDays[days] {
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Days", Message: "The period must be 1, 7, 30 or 90 days."}
	}
	acct, sv, err := s.authorizeService(ctx, a, ActionGetService, code)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, a, ActionLookupEvents, anyResource); err != nil {
		return nil, err
	}
	now := s.st.Now().UTC()
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-days)
	if export {
		ev := s.event(ctx, a, acct, s.opType(a), EventExportServiceUsage)
		ev.EventSource, ev.ServiceName = "gateway", "Gateway"
		ev.ResourceName = "acs:gateway::" + acct + ":service/" + sv.Code
		ev.RequestParameters = map[string]any{"Code": sv.Code, "Days": days}
		if err := s.record(ctx, ev); err != nil {
			return nil, err
		}
	}
	return s.st.ServiceUsage(ctx, sv.Code, from, time.Time{})
}
