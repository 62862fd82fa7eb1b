package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/policy"
	"ramconsole/ram"
	"ramconsole/views"
)

var simulatorFields = []string{"user", "request", "action", "resource", "source_ip", "mfa_present", "secure_transport", "current_time", "context", "document"}

// simulateJSON is the simulator's JSON answer (SPEC §5).
type simulateJSON struct {
	Action    string         `json:"action,omitempty"` // the action asked about (a service request's, when mapped)
	Decision  string         `json:"decision"`
	Matched   []matchJSON    `json:"matched"`
	Resources []resourceJSON `json:"resources"`
}

type matchJSON struct {
	PolicyType string `json:"policyType"`
	PolicyName string `json:"policyName"`
	Version    string `json:"version"`
	Statement  int    `json:"statement"`
	Effect     string `json:"effect"`
}

type resourceJSON struct {
	Resource string      `json:"resource"`
	Decision string      `json:"decision"`
	Matched  []matchJSON `json:"matched"`
}

func matches(rs []policy.Reason) []matchJSON {
	out := make([]matchJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, matchJSON{PolicyType: r.PolicyType, PolicyName: r.PolicyName, Version: r.Version, Statement: r.Statement, Effect: r.Effect})
	}
	return out
}

func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "application/json")
}

// simulatorPage renders the simulator's page, offering the names of the
// users the viewer may list for its user field.
func (h *Handlers) simulatorPage(c echo.Context, status int, m views.Simulator) error {
	m.Layout = h.layout(c, "Simulator")
	if h.mayList(c, "user") {
		if page, err := h.RAM.ListUsers(ctx(c), ActorOf(c), ram.ListUsersInput{MaxItems: offerRows}); err == nil {
			for _, u := range page.Users {
				m.Users = append(m.Users, u.UserName)
			}
		}
	}
	return Render(c, status, views.SimulatorPage(m))
}

// Simulator handles GET and POST /simulator. A GET that names a user and
// an action (the "can this user do X on Y?" box of a user's page) is
// answered at once: an empty resource means every resource (*), an empty
// action is a message next to the field.
func (h *Handlers) Simulator(c echo.Context) error {
	vals := form(c, simulatorFields...)
	var mapped string
	if req := strings.TrimSpace(vals["request"]); req != "" && vals["user"] != "" {
		// A request to a resource service: its action and resource come from the service's mapping.
		svc, action, resource, err := h.RAM.MapServiceRequest(ctx(c), req)
		if fields, ok := fieldErrors(err); ok {
			return h.simulatorPage(c, http.StatusUnprocessableEntity, views.Simulator{Form: views.Form{Values: vals, Errors: fields}})
		}
		if err != nil {
			return err
		}
		vals["action"], vals["resource"] = action, resource
		mapped = "Service " + svc + " maps it to " + action + " on " + resource + "."
	}
	if c.Request().Method == http.MethodGet {
		if vals["user"] == "" || (vals["action"] == "" && !c.QueryParams().Has("action")) {
			return h.simulatorPage(c, http.StatusOK, views.Simulator{Form: views.Form{Values: vals}})
		}
		if strings.TrimSpace(vals["resource"]) == "" {
			vals["resource"] = "*"
		}
	}
	in := ram.SimulateInput{UserName: strings.TrimSpace(vals["user"]), Action: vals["action"], Resources: strings.Split(vals["resource"], "\n"),
		SourceIP: vals["source_ip"], MFAPresent: strings.TrimSpace(vals["mfa_present"]), SecureTransport: strings.TrimSpace(vals["secure_transport"]),
		CurrentTime: vals["current_time"], Context: strings.Split(vals["context"], "\n"), Draft: vals["document"]}
	res, err := h.RAM.Simulate(ctx(c), ActorOf(c), in)
	if fields, ok := fieldErrors(err); ok {
		if wantsJSON(c) {
			var errs []string
			for _, f := range simulatorFields {
				if msg, ok := fields[f]; ok {
					errs = append(errs, f+": "+msg)
				}
			}
			return c.JSON(http.StatusUnprocessableEntity, map[string][]string{"errors": errs})
		}
		return h.simulatorPage(c, http.StatusUnprocessableEntity, views.Simulator{Form: views.Form{Values: vals, Errors: fields}, Problems: ram.PolicyProblems(err)})
	}
	if err != nil {
		return err
	}
	if wantsJSON(c) {
		out := simulateJSON{Decision: res.Decision.String(), Matched: matches(res.Matched), Action: vals["action"]}
		for _, r := range res.Resources {
			out.Resources = append(out.Resources, resourceJSON{Resource: r.Resource, Decision: r.Decision.String(), Matched: matches(r.Matched)})
		}
		return c.JSON(http.StatusOK, out)
	}
	m := views.Simulator{Form: views.Form{Values: vals}, Decided: true, Decision: res.Decision.String(), Mapped: mapped}
	for _, r := range res.Resources {
		rd := views.ResourceDecision{Resource: r.Resource, Decision: r.Decision.String()}
		for _, mt := range r.Matched {
			rd.Matched = append(rd.Matched, views.Match{PolicyType: mt.PolicyType, PolicyName: mt.PolicyName, Version: mt.Version, Effect: mt.Effect, Statement: mt.Statement})
		}
		m.Resources = append(m.Resources, rd)
	}
	return h.simulatorPage(c, http.StatusOK, m)
}
