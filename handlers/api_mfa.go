package handlers

// OpenAPI actions on virtual MFA devices.

// apiVirtualMFADevice is RAM's VirtualMFADevice: the seed and QR code only
// in CreateVirtualMFADevice's answer, the user only for a bound device.
type apiVirtualMFADevice struct {
	SerialNumber     string
	Base32StringSeed string   `json:",omitempty" xml:",omitempty"`
	QRCodePNG        string   `json:",omitempty" xml:",omitempty"`
	ActivateDate     string   `json:",omitempty" xml:",omitempty"`
	User             *apiUser `json:",omitempty" xml:",omitempty"`
}

type virtualMFADeviceResponse struct {
	apiMeta
	VirtualMFADevice apiVirtualMFADevice
}

type virtualMFADevicesResponse struct {
	apiMeta
	VirtualMFADevices struct {
		VirtualMFADevice []apiVirtualMFADevice
	}
}

// apiMFADevice is RAM's MFADevice.
type apiMFADevice struct {
	SerialNumber string
	Type         string
}

type mfaDeviceResponse struct {
	apiMeta
	MFADevice apiMFADevice
}

func apiCreateVirtualMFADevice(c *apiCall) (apiResponse, error) {
	d, err := c.svc.CreateVirtualMFADevice(c.ctx, c.actor, c.p["VirtualMFADeviceName"])
	if err != nil {
		return nil, err
	}
	return &virtualMFADeviceResponse{VirtualMFADevice: apiVirtualMFADevice{SerialNumber: d.SerialNumber,
		Base32StringSeed: d.Base32StringSeed, QRCodePNG: d.QRCodePNG}}, nil
}

func apiListVirtualMFADevices(c *apiCall) (apiResponse, error) {
	devs, err := c.svc.ListVirtualMFADevices(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	out := &virtualMFADevicesResponse{}
	out.VirtualMFADevices.VirtualMFADevice = make([]apiVirtualMFADevice, 0, len(devs))
	for _, d := range devs {
		v := apiVirtualMFADevice{SerialNumber: d.SerialNumber, ActivateDate: apiDate(d.ActivateDate)}
		if d.User != nil {
			v.User = &apiUser{UserID: d.User.UserID, UserName: d.User.UserName, DisplayName: d.User.DisplayName}
		}
		out.VirtualMFADevices.VirtualMFADevice = append(out.VirtualMFADevices.VirtualMFADevice, v)
	}
	return out, nil
}

func apiDeleteVirtualMFADevice(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteVirtualMFADevice(c.ctx, c.actor, c.p["SerialNumber"]))
}

func apiBindMFADevice(c *apiCall) (apiResponse, error) {
	return empty(c.svc.BindMFADevice(c.ctx, c.actor, c.p["SerialNumber"], c.p["UserName"], c.p["AuthenticationCode1"], c.p["AuthenticationCode2"]))
}

func apiUnbindMFADevice(c *apiCall) (apiResponse, error) {
	d, err := c.svc.UnbindMFADevice(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	return &mfaDeviceResponse{MFADevice: apiMFADevice{SerialNumber: d.Serial, Type: "VMFA"}}, nil
}

func apiGetUserMFAInfo(c *apiCall) (apiResponse, error) {
	d, err := c.svc.GetUserMFAInfo(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	return &mfaDeviceResponse{MFADevice: apiMFADevice{SerialNumber: d.Serial, Type: "VMFA"}}, nil
}
