package starter

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/complaint"
)

var saTypes = map[complaint.SearchAttributeType]enumspb.IndexedValueType{
	complaint.SATypeKeyword:     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	complaint.SATypeKeywordList: enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	complaint.SATypeInt:         enumspb.INDEXED_VALUE_TYPE_INT,
	complaint.SATypeBool:        enumspb.INDEXED_VALUE_TYPE_BOOL,
	complaint.SATypeDatetime:    enumspb.INDEXED_VALUE_TYPE_DATETIME,
}

// EnsureSearchAttributes registers the case's search attributes in the
// namespace, adding only those missing, so it is safe to run at every start.
// An attribute that exists with another type is an error to fix by hand.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ops := c.OperatorService()
	list, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range complaint.SearchAttributes {
		want := saTypes[typ]
		have, ok := list.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want
		case have != want:
			return fmt.Errorf("search attribute %s is %s in namespace %s, want %s", name, have, namespace, want)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}
