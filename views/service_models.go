package views

// ServiceRow is one resource service in the services list.
type ServiceRow struct {
	Code, Href, Name, Style, Region, Hosts, Updated string
}

// Services is the resource services list, with its import form.
type Services struct {
	Layout   Layout
	Rows     []ServiceRow
	NextHref string
	// CanCreate and CanImport: whether the viewer may create a service, and
	// import a definition (create, or replace one).
	CanCreate, CanImport bool
}

// ServiceForm creates or imports a service from its definition's JSON.
type ServiceForm struct {
	Layout Layout
	Title  string
	Action string // /services or /services/import
	Form   Form
}

// ServiceRuleRow is one rule of a rest service.
type ServiceRuleRow struct {
	Methods, Path, Action, Resource string
}

// ServiceResourceRow is one action's resource of an rpc service.
type ServiceResourceRow struct {
	Action, Resource string
}

// ServiceDetail is one resource service.
type ServiceDetail struct {
	Layout                                           Layout
	Code, Name, ARN, Style, Region, Created, Updated string
	Hosts                                            []string
	Rules                                            []ServiceRuleRow
	Resources                                        []ServiceResourceRow
	Definition                                       string
	ExportHref, DeleteHref                           string
	// CanDelete: whether the viewer may delete the service.
	CanDelete bool
	// Usage is the gateway's decisions for the service over UsageDays days
	// (UsageDenied names the missing permission when the viewer may not
	// read them).
	Usage                  []ServiceUsageRow
	UsageDays              int
	UsagePeriods           []UsagePeriod
	UsageCSVHref           string
	UsageDenied            string
	UsageAllowed, UsageDen int64
}

// ServiceUsageRow is one day, action and operator of a service's usage.
type ServiceUsageRow struct {
	Day, Action, Operator, OperatorType string
	Allowed, Denied                     int64
}

// UsagePeriod is a choice of the usage section's period.
type UsagePeriod struct {
	Label, Href string
	Current     bool
}

// ServiceDelete confirms deleting a service.
type ServiceDelete struct {
	Layout Layout
	Code   string
	Form   Form
}
