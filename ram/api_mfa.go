package ram

import (
	"context"
	"errors"
	"time"

	"ramconsole/store"
)

// maxUnboundMFADevices caps the virtual MFA devices created and not yet bound.
const maxUnboundMFADevices = MaxUsers

// VirtualMFADevice is a virtual MFA device as the OpenAPI describes it. The
// seed and its QR code are known only in the answer to its creation.
type VirtualMFADevice struct {
	SerialNumber     string
	Base32StringSeed string
	QRCodePNG        string
	ActivateDate     time.Time
	User             *User // the user it is bound to, if any
}

func mfaARN(acct, name string) string               { return "acs:ram::" + acct + ":mfa/" + name }
func allMFAResource(acct string) Resource           { return Resource{"acs:ram:*:" + acct + ":mfa/*"} }
func mfaDeviceResource(d *store.MFADevice) Resource { return Resource{d.Serial} }

// CreateVirtualMFADevice creates an unbound virtual MFA device with a fresh
// seed; the answer is the only place the seed is ever shown.
func (s *Service) CreateVirtualMFADevice(ctx context.Context, a Actor, name string) (*VirtualMFADevice, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:CreateVirtualMFADevice", allMFAResource(acct)); err != nil {
		return nil, err
	}
	var fe fieldErrors
	checkName(&fe, "name", "VirtualMFADeviceName", "device name", name)
	if err := fe.err(); err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateVirtualMFADevice", name, err)
	}
	serial := mfaARN(acct, name)
	if reservedUserName(name) {
		// The owner's device carries this serial; it stays free for it.
		return nil, s.refuse(ctx, a, acct, "CreateVirtualMFADevice", serial,
			conflict("EntityAlreadyExists.VirtualMFADevice", "The name root is reserved for the account owner's device."))
	}
	seed := NewTOTPSeed()
	issuer := "ramconsole"
	if ac, err := s.st.Account(ctx); err == nil {
		issuer = "ramconsole " + displayAlias(ac)
	}
	en, err := enrollment(seed, issuer, name)
	if err != nil {
		return nil, err
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountUnboundMFADevices(ctx)
		if err != nil {
			return err
		}
		if n >= maxUnboundMFADevices {
			return limit("LimitExceeded.VirtualMFADevice", "Too many virtual MFA devices are waiting to be bound.")
		}
		id, err := tx.NextMFADeviceID(ctx)
		if err != nil {
			return err
		}
		err = tx.CreateVirtualMFADevice(ctx, store.MFADevice{ID: id, Serial: serial, SeedEnc: s.sealer.Seal(mfaSeedAD(id), seed)})
		if errors.Is(err, store.ErrConflict) {
			return conflict("EntityAlreadyExists.VirtualMFADevice", "A virtual MFA device with this name already exists.")
		}
		if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "CreateVirtualMFADevice", serial, map[string]any{"VirtualMFADeviceName": name}))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateVirtualMFADevice", serial, err)
	}
	return &VirtualMFADevice{SerialNumber: serial, Base32StringSeed: en.Secret, QRCodePNG: en.QRCodePNG}, nil
}

// ListVirtualMFADevices returns the RAM users' virtual MFA devices, bound
// and unbound (never their seeds).
func (s *Service) ListVirtualMFADevices(ctx context.Context, a Actor) ([]VirtualMFADevice, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:ListVirtualMFADevices", allMFAResource(acct)); err != nil {
		return nil, err
	}
	devs, err := s.st.VirtualMFADevices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VirtualMFADevice, 0, len(devs))
	for _, d := range devs {
		v := VirtualMFADevice{SerialNumber: d.Serial, ActivateDate: d.BoundAt}
		if id := Principal(d.Principal).UserID(); id != "" {
			u, err := s.st.UserByID(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			v.User = u
		}
		out = append(out, v)
	}
	return out, nil
}

// DeleteVirtualMFADevice deletes an unbound device (RAM refuses while it is
// bound: DeleteConflict.VirtualMFADevice.User).
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, a Actor, serial string) error {
	acct := s.accountID(ctx)
	res := Resource{serial} // a serial that matches no device is authorised as spelled
	if d, err := s.st.MFADeviceBySerial(ctx, serial); err == nil {
		res = mfaDeviceResource(d)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.authorize(ctx, a, "ram:DeleteVirtualMFADevice", res); err != nil {
		return err
	}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		d, err := tx.MFADeviceBySerial(ctx, res.arn)
		if errors.Is(err, store.ErrNotFound) || err == nil && Principal(d.Principal) == PrincipalRoot {
			return notFound("EntityNotExist.VirtualMFADevice", "virtual MFA device")
		}
		if err != nil {
			return err
		}
		if d.Principal != "" {
			return conflict("DeleteConflict.VirtualMFADevice.User", "The device is bound to a user. Unbind it first.")
		}
		if err := tx.DeleteUnboundMFADevice(ctx, d.Serial); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "DeleteVirtualMFADevice", serial, map[string]any{"SerialNumber": serial}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeleteVirtualMFADevice", serial, err)
	}
	return nil
}

// BindMFADevice binds an unbound virtual device to a user with two
// consecutive codes of its seed; both steps then count as used. The user's
// sessions end: its MFA device changed.
func (s *Service) BindMFADevice(ctx context.Context, a Actor, serial, userName, code1, code2 string) error {
	acct, target, err := s.authorizeUser(ctx, a, "ram:BindMFADevice", userName)
	if ErrorKind(err) == EINVALID {
		return s.refuse(ctx, a, acct, "BindMFADevice", userName, err)
	}
	if err != nil {
		return err
	}
	if !isSixDigits(code1) || !isSixDigits(code2) {
		return s.refuse(ctx, a, acct, "BindMFADevice", userName, &Error{Kind: EINVALID, Code: "InvalidParameter.AuthenticationCode.Format",
			Message: "Each authentication code is 6 digits."})
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		d, err := tx.MFADeviceBySerial(ctx, serial)
		if errors.Is(err, store.ErrNotFound) || err == nil && Principal(d.Principal) == PrincipalRoot {
			return notFound("EntityNotExist.VirtualMFADevice", "virtual MFA device")
		}
		if err != nil {
			return err
		}
		if d.Principal != "" {
			return conflict("EntityAlreadyExists.VirtualMFADevice.User", "The device is already bound to a user.")
		}
		if _, err := tx.MFADeviceFor(ctx, u.Principal()); err == nil {
			return conflict("EntityAlreadyExists.User.MFADevice", "The user already has an MFA device.")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		seed, err := s.sealer.Open(mfaSeedAD(d.ID), d.SeedEnc)
		if err != nil {
			return err
		}
		last, ok := matchConsecutive(seed, code1, code2, tx.Now())
		if !ok {
			return &Error{Kind: EFORBIDDEN, Code: "CheckAuthenticationCodeFail",
				Message: "The authentication codes are not two consecutive codes of the device."}
		}
		if err := tx.BindVirtualMFADevice(ctx, serial, u.Principal(), last); errors.Is(err, store.ErrConflict) {
			return conflict("EntityAlreadyExists.User.MFADevice", "The user already has an MFA device.")
		} else if err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, UserPrincipal(u.UserID), "", true); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "BindMFADevice", u.UserName, map[string]any{"SerialNumber": serial, "UserName": u.UserName}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "BindMFADevice", userName, err)
	}
	return nil
}

// GetUserMFAInfo returns the MFA device bound to a user.
func (s *Service) GetUserMFAInfo(ctx context.Context, a Actor, userName string) (*store.MFADevice, error) {
	_, u, err := s.authorizeUser(ctx, a, "ram:GetUserMFAInfo", userName)
	if err != nil {
		return nil, err
	}
	d, err := s.st.MFADeviceFor(ctx, u.Principal())
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("EntityNotExist.User.MFADevice", "MFA device")
	}
	return d, err
}
