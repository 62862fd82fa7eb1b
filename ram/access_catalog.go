package ram

// knownActions are the actions of ramconsole's own services the access
// review lists for every principal they are granted to (SPEC §16.2): the
// RAM, STS, IMS, gateway and ActionTrail actions ramconsole authorises.
// A test checks that every action the service authorises is here.
var knownActions = []string{
	"actiontrail:LookupEvents", "gateway:CreateService", "gateway:DeleteService", "gateway:GetService",
	"gateway:ListServices", "gateway:UpdateService", "ims:GetAccessKeyLastUsed", "ram:AddClientIdToOIDCProvider",
	"ram:AddFingerprintToOIDCProvider", "ram:AddUserToGroup", "ram:AttachPolicyToGroup", "ram:AttachPolicyToRole",
	"ram:AttachPolicyToUser", "ram:BindMFADevice", "ram:ChangePassword", "ram:ClearAccountAlias",
	"ram:CreateAccessKey", "ram:CreateAppSecret", "ram:CreateApplication", "ram:CreateGroup",
	"ram:CreateLoginProfile", "ram:CreateOIDCProvider", "ram:CreatePolicy", "ram:CreatePolicyVersion",
	"ram:CreateRole", "ram:CreateSAMLProvider", "ram:CreateUser", "ram:CreateVirtualMFADevice", "ram:DeleteAccessKey",
	"ram:DeleteAppSecret", "ram:DeleteApplication", "ram:DeleteGroup", "ram:DeleteLoginProfile",
	"ram:DeleteOIDCProvider", "ram:DeletePolicy", "ram:DeletePolicyVersion", "ram:DeleteRole",
	"ram:DeleteSAMLProvider", "ram:DeleteUser", "ram:DeleteVirtualMFADevice", "ram:DetachPolicyFromGroup",
	"ram:DetachPolicyFromRole", "ram:DetachPolicyFromUser", "ram:GenerateCredentialReport",
	"ram:GenerateServiceLastAccessedDetails", "ram:GetAccessKeyLastUsed", "ram:GetAccountAlias", "ram:GetAppSecret",
	"ram:GetApplication", "ram:GetCredentialReport", "ram:GetGroup", "ram:GetLoginProfile", "ram:GetOIDCProvider",
	"ram:GetPasswordPolicy", "ram:GetPolicy", "ram:GetPolicyVersion", "ram:GetRole", "ram:GetSAMLProvider",
	"ram:GetSecurityPreference", "ram:GetServiceLastAccessedDetails", "ram:GetUser", "ram:GetUserMFAInfo",
	"ram:GetUserSsoSettings", "ram:ListAccessKeys", "ram:ListAppSecretIds", "ram:ListApplications",
	"ram:ListEntitiesForPolicy", "ram:ListGroups", "ram:ListGroupsForUser", "ram:ListOIDCProviders",
	"ram:ListPolicies", "ram:ListPoliciesForGroup", "ram:ListPoliciesForRole", "ram:ListPoliciesForUser",
	"ram:ListPolicyVersions", "ram:ListRoles", "ram:ListSAMLProviders", "ram:ListUsers", "ram:ListUsersForGroup",
	"ram:ListVirtualMFADevices", "ram:RemoveClientIdFromOIDCProvider", "ram:RemoveFingerprintFromOIDCProvider",
	"ram:RemoveUserFromGroup", "ram:SetAccountAlias", "ram:SetDefaultPolicyVersion", "ram:SetPasswordPolicy",
	"ram:SetSecurityPreference", "ram:SetUserSsoSettings", "ram:SimulatePrincipalPolicy", "ram:UnbindMFADevice",
	"ram:UnlockUser", "ram:UpdateAccessKey", "ram:UpdateApplication", "ram:UpdateGroup", "ram:UpdateLoginProfile",
	"ram:UpdateOIDCProvider", "ram:UpdatePolicyDescription", "ram:UpdateRole", "ram:UpdateSAMLProvider",
	"ram:UpdateUser", "sts:AssumeRole",
}
