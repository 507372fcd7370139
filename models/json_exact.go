package models

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"

	"gorm.io/gorm/schema"
)

// DecodeExact decodes JSON that Herald stored from a sender (event
// properties, contact attributes, a run's state, an item) with its numbers
// as json.Number: their digits as sent. Into float64, a 20-digit id went
// out rounded to 17 digits and a number past a float's range as null.
func DecodeExact(raw []byte, v any) error {
	if m, ok := v.(*map[string]any); ok && decodeObjectFast(raw, m) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// ExactObject is a JSON object a request names (a contact's attributes)
// decoded with DecodeExact, so its numbers keep their digits as processing
// keeps them: through the admin API, a 20-digit attribute was rounded and
// overwrote the exact one an event had set.
type ExactObject map[string]any

// UnmarshalJSON decodes an object (or null) with its numbers as
// json.Number, within CheckNumbers' bounds (a *NumberError otherwise).
func (o *ExactObject) UnmarshalJSON(raw []byte) error {
	var m map[string]any
	if err := DecodeExact(raw, &m); err != nil {
		return err
	}
	if bad := CheckNumbers(m, len(raw)); bad != nil {
		return bad
	}
	*o = m
	return nil
}

// jsonExactSerializer is gorm's json serializer with numbers decoded as
// json.Number (DecodeExact): what a sender's properties and attributes
// hold keeps its digits wherever gorm loads them (a contact's page, a
// journey step's test-send, its latest events), as in processing.
type jsonExactSerializer struct{ schema.JSONSerializer }

func init() { schema.RegisterSerializer("jsonexact", jsonExactSerializer{}) }

// Scan decodes the column's JSON into the field, numbers exact.
func (jsonExactSerializer) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	fieldValue := reflect.New(field.FieldType)
	var raw []byte
	var err error
	switch v := dbValue.(type) {
	case nil:
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default: // as gorm's json serializer: the value as JSON
		if raw, err = json.Marshal(v); err != nil {
			return err
		}
	}
	if len(raw) > 0 {
		err = DecodeExact(raw, fieldValue.Interface())
	}
	field.ReflectValueOf(ctx, dst).Set(fieldValue.Elem())
	return err
}
