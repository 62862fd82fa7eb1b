package ram

import "strings"

// The owner is "root" wherever the account names identities: its principal
// (sessions, remembered devices), its MFA device's serial
// acs:ram::<AccountId>:mfa/root (a RAM user's console device is
// mfa/<UserName>) and the userName of its audit events. A RAM user with that
// name, in any case, would read as the owner there, so it is reserved.
// (ARNs do not collide: the owner is acs:ram::<AccountId>:root, a user
// acs:ram::<AccountId>:user/<UserName>; a user name cannot contain "@", so
// it is never the owner's email.)

// reservedUserName reports whether name is reserved for the owner.
func reservedUserName(name string) bool {
	return strings.EqualFold(name, string(PrincipalRoot))
}

// checkReservedUserName refuses a reserved name for a new user or a rename
// (param is "UserName" or "NewUserName"). current is the user's name before
// the change, "" for a new user: a user that already has the name (from
// before it was reserved) keeps it.
func checkReservedUserName(fe *fieldErrors, param, name, current string) {
	if name != current && reservedUserName(name) {
		fe.add("name", "InvalidParameter."+param+".Reserved",
			"The name %s is reserved for the account owner (root); choose another user name.", name)
	}
}

// ownerMFASerial is the serial of the owner's MFA device.
func ownerMFASerial(acctID string) string { return mfaARN(acctID, string(PrincipalRoot)) }
