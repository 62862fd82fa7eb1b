package samlsp

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// XML limits of SPEC §18.10.
const (
	maxXMLBytes = 1 << 20
	maxXMLDepth = 64
)

// XML namespaces read by this package.
const (
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// parseXML is the one way this package reads XML. It refuses documents over
// 1 MiB or deeper than 64 elements, anything that does not survive an
// encoding/xml round trip unchanged (the namespace confusions behind
// signature bypasses), and every DOCTYPE, DTD, entity declaration and
// processing instruction other than the XML declaration. Entities are never
// expanded: the decoder is strict and knows only the five predefined ones.
func parseXML(doc []byte) (*etree.Element, error) {
	if len(doc) > maxXMLBytes {
		return nil, errors.New("the document is larger than 1 MiB")
	}
	if err := xrv.Validate(bytes.NewReader(doc)); err != nil {
		return nil, fmt.Errorf("the document is not well-formed XML: %v", err)
	}
	d := etree.NewDocument()
	d.ReadSettings = etree.ReadSettings{MaxDepth: maxXMLDepth}
	if err := d.ReadFromBytes(doc); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, fmt.Errorf("the document is nested deeper than %d elements", maxXMLDepth)
		}
		return nil, fmt.Errorf("the document is not well-formed XML: %v", err)
	}
	root := d.Root()
	if root == nil {
		return nil, errors.New("the document has no root element")
	}
	for i, t := range d.Child {
		if p, ok := t.(*etree.ProcInst); ok && p.Target == "xml" && i == 0 {
			continue // the XML declaration
		}
		if err := checkToken(t); err != nil {
			return nil, err
		}
	}
	if err := checkTree(root); err != nil {
		return nil, err
	}
	return root, nil
}

// checkTree refuses directives and processing instructions anywhere under el.
// The depth is bounded by maxXMLDepth, so the recursion is too.
func checkTree(el *etree.Element) error {
	for _, t := range el.Child {
		if err := checkToken(t); err != nil {
			return err
		}
		if c, ok := t.(*etree.Element); ok {
			if err := checkTree(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkToken(t etree.Token) error {
	switch t.(type) {
	case *etree.Directive:
		return errors.New("the document has a DOCTYPE, DTD or entity declaration, which is not allowed")
	case *etree.ProcInst:
		return errors.New("the document has a processing instruction, which is not allowed")
	}
	return nil
}

// children is el's child elements named local in namespace ns.
func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// child is el's first child element named local in namespace ns, or nil.
func child(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			return c
		}
	}
	return nil
}

// descendants is every element under el (el included) named local in
// namespace ns, in document order.
func descendants(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if is(e, ns, local) {
			out = append(out, e)
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(el)
	return out
}

func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}
