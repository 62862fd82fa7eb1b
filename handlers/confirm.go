package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// Confirmation pages: a GET that says what will break before the POST that
// removes console access, an MFA device, an AccessKey, a membership or a
// policy attachment. The route table authorises the GET with the POST's
// action; extra facts shown here are read only where the viewer may read
// them (looking is never audited as a refusal).

func (h *Handlers) confirmPage(c echo.Context, status int, m views.Confirm) error {
	m.Layout = h.layout(c, m.Title)
	return Render(c, status, views.ConfirmPage(m))
}

// findKey lists the route user's AccessKeys (or, for /me, the signed-in
// user's) and finds keyID among them.
func (h *Handlers) findKey(c echo.Context, own bool) (*ram.AccessKey, error) {
	var keys []ram.AccessKey
	var err error
	if own {
		keys, err = h.RAM.OwnAccessKeys(ctx(c), ActorOf(c))
	} else {
		keys, err = h.RAM.ListAccessKeys(ctx(c), ActorOf(c), c.Param("name"))
	}
	if err != nil {
		return nil, err
	}
	for i := range keys {
		if keys[i].AccessKeyID == c.Param("id") {
			return &keys[i], nil
		}
	}
	return nil, echo.NewHTTPError(http.StatusNotFound, "The AccessKey does not exist.")
}

func keyDeleteModel(k *ram.AccessKey, base, back string) views.Confirm {
	m := views.Confirm{Title: "Delete AccessKey " + k.AccessKeyID + "?", Action: base + "/delete", Button: "Delete AccessKey",
		Want: k.AccessKeyID, WantLabel: "Type the AccessKey ID to confirm", Back: back}
	m.Breaks = []string{"Programs using " + k.AccessKeyID + " will fail, for good: a deleted AccessKey cannot be restored.",
		"Its secret can never be used again; a new AccessKey has a new ID and secret."}
	if used := date(k.LastUsedAt); used != "" {
		m.Notes = append(m.Notes, "Last used "+used+".")
	} else {
		m.Notes = append(m.Notes, "Never used.")
	}
	if k.Status == "Active" {
		m.Blocked = "AccessKey " + k.AccessKeyID + " is Active. Disable it first, check that nothing fails without it, then come back to delete it."
		m.FixAction, m.FixLabel = base+"/status", "Disable AccessKey"
		m.FixHidden = []views.HiddenField{{Name: "status", Value: "Inactive"}}
	}
	return m
}

// AccessKeyDeleteForm handles GET /users/:name/accesskeys/:id/delete.
func (h *Handlers) AccessKeyDeleteForm(c echo.Context) error {
	k, err := h.findKey(c, false)
	if err != nil {
		return err
	}
	name := c.Param("name")
	return h.confirmPage(c, http.StatusOK, keyDeleteModel(k, userHref(name)+"/accesskeys/"+url.PathEscape(k.AccessKeyID), userHref(name)))
}

// MeAccessKeyDeleteForm handles GET /me/accesskeys/:id/delete.
func (h *Handlers) MeAccessKeyDeleteForm(c echo.Context) error {
	k, err := h.findKey(c, true)
	if err != nil {
		return err
	}
	return h.confirmPage(c, http.StatusOK, keyDeleteModel(k, "/me/accesskeys/"+url.PathEscape(k.AccessKeyID), "/me"))
}

// keyDeleteRefused shows the confirmation again when the typed ID differs
// or the key is still Active; other errors are returned.
func (h *Handlers) keyDeleteRefused(c echo.Context, own bool, base, back string, err error) error {
	typed := c.FormValue("confirm")
	e, isDomain := ram.AsError(err)
	if err != nil && (!isDomain || e.Kind != ram.ECONFLICT) {
		return err
	}
	k, kerr := h.findKey(c, own)
	if kerr != nil {
		return kerr
	}
	m := keyDeleteModel(k, base, back)
	m.Form = views.Form{Values: map[string]string{"confirm": typed}}
	status := http.StatusConflict
	if err == nil {
		m.Form.Errors = map[string]string{"confirm": "Type the AccessKey ID exactly to confirm."}
		status = http.StatusUnprocessableEntity
	}
	return h.confirmPage(c, status, m)
}

// LoginProfileDeleteForm handles GET /users/:name/login-profile/delete.
func (h *Handlers) LoginProfileDeleteForm(c echo.Context) error {
	name := c.Param("name")
	if _, err := h.RAM.GetLoginProfile(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	m := views.Confirm{Title: "Remove console access of " + name + "?", Action: userHref(name) + "/login-profile/delete",
		Button: "Remove console access", Back: userHref(name),
		Breaks: []string{name + " can no longer sign in to the console; the password is gone.",
			"Every console session of " + name + " ends now."},
		Notes: []string{"AccessKeys, groups and policies stay. To let the person sign in again, enable console access with a new password."}}
	return h.confirmPage(c, http.StatusOK, m)
}

// UserMFAUnbindForm handles GET /users/:name/mfa/unbind.
func (h *Handlers) UserMFAUnbindForm(c echo.Context) error {
	name := c.Param("name")
	if _, err := h.RAM.GetUserMFAInfo(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	m := views.Confirm{Title: "Unbind the MFA device of " + name + "?", Action: userHref(name) + "/mfa/unbind",
		Button: "Unbind MFA device", Back: userHref(name),
		Breaks: []string{"The device on " + name + "'s phone stops working for this account; its codes are refused.",
			"Every console session of " + name + " ends now.",
			"If MFA is required of " + name + " (or of every user), they must bind a new device at their next sign-in; if not, their password alone signs them in."}}
	return h.confirmPage(c, http.StatusOK, m)
}

// membershipConfirm is the page before removing user from group.
func (h *Handlers) membershipConfirm(c echo.Context, user, group, action, back string) error {
	groups, err := h.RAM.ListGroupsForUser(ctx(c), ActorOf(c), user)
	if err != nil {
		return err
	}
	member := false
	for _, g := range groups {
		member = member || strings.EqualFold(g.GroupName, group)
	}
	if !member {
		return echo.NewHTTPError(http.StatusNotFound, user+" is not a member of "+group+".")
	}
	m := views.Confirm{Title: "Remove " + user + " from " + group + "?", Action: action, Button: "Remove from group", Back: back}
	if h.RAM.Allowed(ctx(c), ActorOf(c), "ram:ListPoliciesForGroup", ram.GroupRef(group)) {
		pols, err := h.RAM.ListPoliciesForGroup(ctx(c), ActorOf(c), group)
		if err != nil {
			return err
		}
		for _, p := range pols {
			m.Breaks = append(m.Breaks, user+" loses what "+p.PolicyType+" policy "+p.PolicyName+" allows through "+group+", unless another policy or group grants it.")
		}
		if len(pols) == 0 {
			m.Notes = append(m.Notes, group+" has no policies attached: "+user+" loses no permissions.")
		}
	} else {
		m.Breaks = append(m.Breaks, user+" loses every permission that comes through "+group+".")
	}
	return h.confirmPage(c, http.StatusOK, m)
}

// UserGroupRemoveForm handles GET /users/:name/groups/:group/remove.
func (h *Handlers) UserGroupRemoveForm(c echo.Context) error {
	name, group := c.Param("name"), c.Param("group")
	return h.membershipConfirm(c, name, group, userHref(name)+"/groups/"+url.PathEscape(group)+"/remove", userHref(name))
}

// GroupMemberRemoveForm handles GET /groups/:name/members/:user/remove.
func (h *Handlers) GroupMemberRemoveForm(c echo.Context) error {
	group, user := c.Param("name"), c.Param("user")
	return h.membershipConfirm(c, user, group, groupHref(group)+"/members/"+url.PathEscape(user)+"/remove", groupHref(group))
}

// PolicyDetachForm handles GET …/:name/policies/:type/:policy/detach for
// users, groups and roles; from=policy or from=grants leads back to the
// policy's page or the grants page.
func (h *Handlers) PolicyDetachForm(kind string) echo.HandlerFunc {
	pk := principalKinds[kind]
	return func(c echo.Context) error {
		name, typ, policyName := c.Param("name"), c.Param("type"), c.Param("policy")
		back := pk.href(name)
		fromPolicy := c.QueryParam("from") == "policy"
		if fromPolicy {
			back = policyHref(typ, policyName)
		}
		fromGrants := c.QueryParam("from") == "grants"
		if fromGrants {
			back = "/grants"
		}
		attached := false
		if h.RAM.Allowed(ctx(c), ActorOf(c), pk.listAction, pk.ref(name)) {
			pols, err := pk.list(h.RAM)(ctx(c), ActorOf(c), name)
			if err != nil {
				return err
			}
			for _, p := range pols {
				attached = attached || p.PolicyType == typ && strings.EqualFold(p.PolicyName, policyName)
			}
			if !attached {
				return echo.NewHTTPError(http.StatusNotFound, typ+" policy "+policyName+" is not attached to "+name+".")
			}
		}
		m := views.Confirm{Title: "Detach " + policyName + " from " + name + "?", Action: pk.href(name) + "/policies/" + url.PathEscape(typ) + "/" + url.PathEscape(policyName) + "/detach",
			Button: "Detach policy", Back: back,
			Breaks: []string{detachBreaks(kind, name, typ+" policy "+policyName)},
			Notes:  []string{"The policy itself stays; attach it again at any time."}}
		if fromPolicy {
			m.Hidden = []views.HiddenField{{Name: "from", Value: "policy"}}
		}
		if fromGrants {
			m.Hidden = []views.HiddenField{{Name: "from", Value: "grants"}}
		}
		return h.confirmPage(c, http.StatusOK, m)
	}
}

// detachBreaks says, as a sentence, who loses what a policy allows when it
// is detached from a user, a group or a role.
func detachBreaks(kind, name, policy string) string {
	switch kind {
	case "group":
		return "Every member of group " + name + " loses what " + policy + " allows through the group, at once, unless another policy or group grants it."
	case "role":
		return "Every session of role " + name + ", those already started included, loses what " + policy + " allows from its next call, unless another policy of the role grants it."
	}
	return "User " + name + " loses what " + policy + " allows, at once, unless another policy or one of the user's groups grants it."
}
