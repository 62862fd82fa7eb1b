package handlers

import (
	"context"

	"ramconsole/ram"
)

// apiCall is one call as an action's function sees it.
type apiCall struct {
	ctx   context.Context
	svc   *ram.Service
	actor ram.Actor
	p     apiParams
}

// apiAction is one RAM action: whether it changes anything (its nonce is
// then recorded before it runs, and it records its own event), its required
// parameters, and the function that calls the domain service.
type apiAction struct {
	write    bool
	required []string
	call     func(*apiCall) (apiResponse, error)
}

func readAction(call func(*apiCall) (apiResponse, error), required ...string) apiAction {
	return apiAction{required: required, call: call}
}

func writeAction(call func(*apiCall) (apiResponse, error), required ...string) apiAction {
	return apiAction{write: true, required: required, call: call}
}

// apiActions are the 62 actions of RAM 2015-05-01 served (ram-actions.md).
var apiActions map[string]apiAction

func init() {
	apiActions = map[string]apiAction{
		// Users (api_users.go)
		"CreateUser": writeAction(apiCreateUser, "UserName"),
		"GetUser":    readAction(apiGetUser, "UserName"),
		"UpdateUser": writeAction(apiUpdateUser, "UserName"),
		"DeleteUser": writeAction(apiDeleteUser, "UserName"),
		"ListUsers":  readAction(apiListUsers),
		// Login profiles and passwords (api_users.go)
		"CreateLoginProfile": writeAction(apiCreateLoginProfile, "UserName", "Password"),
		"GetLoginProfile":    readAction(apiGetLoginProfile, "UserName"),
		"UpdateLoginProfile": writeAction(apiUpdateLoginProfile, "UserName"),
		"DeleteLoginProfile": writeAction(apiDeleteLoginProfile, "UserName"),
		"ChangePassword":     writeAction(apiChangePassword, "OldPassword", "NewPassword"),
		// AccessKeys (api_users.go)
		"CreateAccessKey":      writeAction(apiCreateAccessKey),
		"UpdateAccessKey":      writeAction(apiUpdateAccessKey, "UserAccessKeyId", "Status"),
		"DeleteAccessKey":      writeAction(apiDeleteAccessKey, "UserAccessKeyId"),
		"ListAccessKeys":       readAction(apiListAccessKeys),
		"GetAccessKeyLastUsed": readAction(apiGetAccessKeyLastUsed, "UserAccessKeyId"),
		// Virtual MFA devices (api_mfa.go)
		"CreateVirtualMFADevice": writeAction(apiCreateVirtualMFADevice, "VirtualMFADeviceName"),
		"ListVirtualMFADevices":  readAction(apiListVirtualMFADevices),
		"DeleteVirtualMFADevice": writeAction(apiDeleteVirtualMFADevice, "SerialNumber"),
		"BindMFADevice":          writeAction(apiBindMFADevice, "SerialNumber", "UserName", "AuthenticationCode1", "AuthenticationCode2"),
		"UnbindMFADevice":        writeAction(apiUnbindMFADevice, "UserName"),
		"GetUserMFAInfo":         readAction(apiGetUserMFAInfo, "UserName"),
		// Groups (api_groups.go)
		"CreateGroup":         writeAction(apiCreateGroup, "GroupName"),
		"GetGroup":            readAction(apiGetGroup, "GroupName"),
		"UpdateGroup":         writeAction(apiUpdateGroup, "GroupName"),
		"DeleteGroup":         writeAction(apiDeleteGroup, "GroupName"),
		"ListGroups":          readAction(apiListGroups),
		"AddUserToGroup":      writeAction(apiAddUserToGroup, "GroupName", "UserName"),
		"RemoveUserFromGroup": writeAction(apiRemoveUserFromGroup, "GroupName", "UserName"),
		"ListGroupsForUser":   readAction(apiListGroupsForUser, "UserName"),
		"ListUsersForGroup":   readAction(apiListUsersForGroup, "GroupName"),
		// Policies, versions and attachments (api_policies.go)
		"CreatePolicy":            writeAction(apiCreatePolicy, "PolicyName", "PolicyDocument"),
		"GetPolicy":               readAction(apiGetPolicy, "PolicyType", "PolicyName"),
		"UpdatePolicyDescription": writeAction(apiUpdatePolicyDescription, "PolicyName"),
		"DeletePolicy":            writeAction(apiDeletePolicy, "PolicyName"),
		"ListPolicies":            readAction(apiListPolicies),
		"CreatePolicyVersion":     writeAction(apiCreatePolicyVersion, "PolicyName", "PolicyDocument"),
		"GetPolicyVersion":        readAction(apiGetPolicyVersion, "PolicyType", "PolicyName", "VersionId"),
		"DeletePolicyVersion":     writeAction(apiDeletePolicyVersion, "PolicyName", "VersionId"),
		"ListPolicyVersions":      readAction(apiListPolicyVersions, "PolicyType", "PolicyName"),
		"SetDefaultPolicyVersion": writeAction(apiSetDefaultPolicyVersion, "PolicyName", "VersionId"),
		"AttachPolicyToUser":      writeAction(apiAttachPolicyToUser, "PolicyType", "PolicyName", "UserName"),
		"DetachPolicyFromUser":    writeAction(apiDetachPolicyFromUser, "PolicyType", "PolicyName", "UserName"),
		"AttachPolicyToGroup":     writeAction(apiAttachPolicyToGroup, "PolicyType", "PolicyName", "GroupName"),
		"DetachPolicyFromGroup":   writeAction(apiDetachPolicyFromGroup, "PolicyType", "PolicyName", "GroupName"),
		"ListPoliciesForUser":     readAction(apiListPoliciesForUser, "UserName"),
		"ListPoliciesForGroup":    readAction(apiListPoliciesForGroup, "GroupName"),
		"ListEntitiesForPolicy":   readAction(apiListEntitiesForPolicy, "PolicyType", "PolicyName"),
		// Roles (api_roles.go)
		"CreateRole":           writeAction(apiCreateRole, "RoleName", "AssumeRolePolicyDocument"),
		"GetRole":              readAction(apiGetRole, "RoleName"),
		"UpdateRole":           writeAction(apiUpdateRole, "RoleName"),
		"DeleteRole":           writeAction(apiDeleteRole, "RoleName"),
		"ListRoles":            readAction(apiListRoles),
		"AttachPolicyToRole":   writeAction(apiAttachPolicyToRole, "PolicyType", "PolicyName", "RoleName"),
		"DetachPolicyFromRole": writeAction(apiDetachPolicyFromRole, "PolicyType", "PolicyName", "RoleName"),
		"ListPoliciesForRole":  readAction(apiListPoliciesForRole, "RoleName"),
		// Account settings (api_account.go)
		"SetAccountAlias":       writeAction(apiSetAccountAlias, "AccountAlias"),
		"GetAccountAlias":       readAction(apiGetAccountAlias),
		"ClearAccountAlias":     writeAction(apiClearAccountAlias),
		"SetPasswordPolicy":     writeAction(apiSetPasswordPolicy),
		"GetPasswordPolicy":     readAction(apiGetPasswordPolicy),
		"SetSecurityPreference": writeAction(apiSetSecurityPreference),
		"GetSecurityPreference": readAction(apiGetSecurityPreference),
	}
}

// APIActions lists the actions the OpenAPI serves (for docs and tests).
func APIActions() []string {
	out := make([]string, 0, len(apiActions))
	for name := range apiActions {
		out = append(out, name)
	}
	return out
}

// empty is the answer of an action that returns nothing but its RequestId.
func empty(err error) (apiResponse, error) {
	if err != nil {
		return nil, err
	}
	return &apiMeta{}, nil
}

// APIActionParams returns an action's required parameters.
func APIActionParams(action string) []string { return apiActions[action].required }
