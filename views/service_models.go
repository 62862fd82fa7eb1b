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
}

// ServiceDelete confirms deleting a service.
type ServiceDelete struct {
	Layout Layout
	Code   string
	Form   Form
}
