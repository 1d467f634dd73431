// Command composition-render renders one composite resource (XR) with the real Crossplane engine: it
// builds the RenderRequest that Crossplane's own core binary reads on stdin (`crossplane internal
// render`, crossplane/crossplane v2.3 cmd/crossplane/render), runs that binary, and prints the result
// as a YAML stream.
//
// Why it exists: from v2.3 on, `crossplane composition render` (module github.com/crossplane/cli/v2)
// is a thin client that loads the files, applies the XRD's defaults and hands everything to the core,
// where the real composite reconciler runs against an in-memory client and calls the functions over
// gRPC. The Go module proxy this project builds from does not serve github.com/crossplane/cli/v2 at
// any version, so aiplane's conformance suite uses this client instead when the CLI is not on PATH.
// Everything that decides the result (XRD defaulting with k8s.io/apiextensions-apiserver's structural
// defaulting, the composition engine, the functions) is the upstream code; this file only moves data.
//
// Arguments and flags follow `crossplane composition render` so that the suite calls either one the
// same way:
//
//	composition-render composition render XR COMPOSITION FUNCTIONS \
//	    [--xrd PATH] [--crossplane-binary PATH] [-o|--observed-resources PATH] [-x|--include-full-xr] \
//	    [--timeout DURATION] [--output yaml|json]
//
// Functions must be marked `render.crossplane.io/runtime: Development`; they are dialled at
// `render.crossplane.io/runtime-development-target` (default localhost:9443), as the CLI does. Output
// is the XR, then the composed resources sorted by their composition-resource-name annotation; exit
// status 1 with the engine's own message on failure. `--output json` (not a CLI flag) prints the same objects
// as one JSON array: the CLI's YAML printer converts through JSON and go-yaml, which refuses strings holding
// C1 control characters, and YAML 1.1 readers such as PyYAML read some plain scalars Go writes (`=`, `1:20`)
// as other types; JSON has neither problem.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"dario.cat/mergo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	renderv1alpha1 "github.com/crossplane/crossplane/v2/proto/render/v1alpha1"
)

const (
	annotationRuntime           = "render.crossplane.io/runtime"
	annotationDevelopmentTarget = "render.crossplane.io/runtime-development-target"
	annotationResourceName      = "crossplane.io/composition-resource-name"
	defaultDevelopmentTarget    = "localhost:9443"
	// Condition timestamps are replaced by a fixed value, as the CLI does, so output is stable.
	stableTimestamp = "2024-01-01T00:00:00Z"
)

type options struct {
	xr, composition, functions string
	xrd, core, observed        string
	includeFullXR              bool
	timeout                    time.Duration
	output                     string
}

func main() {
	opts, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "composition-render: %v\n", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "crossplane: error: %v\n", err)
		os.Exit(1)
	}
}

func parseArgs(args []string) (options, error) {
	o := options{core: "crossplane", timeout: time.Minute, output: "yaml"}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "--xrd":
			o.xrd, err = next()
		case "--crossplane-binary":
			o.core, err = next()
		case "-o", "--observed-resources":
			o.observed, err = next()
		case "--output":
			if o.output, err = next(); err == nil && o.output != "yaml" && o.output != "json" {
				err = fmt.Errorf("--output must be yaml or json, not %q", o.output)
			}
		case "-x", "--include-full-xr":
			o.includeFullXR = true
		case "--timeout":
			var v string
			if v, err = next(); err == nil {
				o.timeout, err = time.ParseDuration(v)
			}
		default:
			if strings.HasPrefix(a, "-") {
				return o, fmt.Errorf("unknown flag %s", a)
			}
			positional = append(positional, a)
		}
		if err != nil {
			return o, err
		}
	}
	if len(positional) != 5 || positional[0] != "composition" || positional[1] != "render" {
		return o, fmt.Errorf("usage: composition-render composition render XR COMPOSITION FUNCTIONS [flags]")
	}
	o.xr, o.composition, o.functions = positional[2], positional[3], positional[4]
	return o, nil
}

func run(o options) error {
	xr, err := loadOne(o.xr)
	if err != nil {
		return fmt.Errorf("cannot load composite resource from %q: %w", o.xr, err)
	}
	comp, err := loadOne(o.composition)
	if err != nil {
		return fmt.Errorf("cannot load Composition from %q: %w", o.composition, err)
	}
	if err := checkComposition(xr, comp); err != nil {
		return err
	}
	fns, err := loadFunctions(o.functions)
	if err != nil {
		return fmt.Errorf("cannot load functions from %q: %w", o.functions, err)
	}

	in := &renderv1alpha1.CompositeInput{Functions: fns}
	if o.xrd != "" {
		xrd, err := loadOne(o.xrd)
		if err != nil {
			return fmt.Errorf("cannot load XRD from %q: %w", o.xrd, err)
		}
		if err := applyXRDDefaults(xr, xrd); err != nil {
			return fmt.Errorf("cannot apply XRD defaults to XR %q: %w", name(xr), err)
		}
		if in.CompositeResourceDefinition, err = structpb.NewStruct(xrd); err != nil {
			return fmt.Errorf("cannot convert XRD to protobuf: %w", err)
		}
	}
	if in.CompositeResource, err = structpb.NewStruct(xr); err != nil {
		return fmt.Errorf("cannot convert XR to protobuf: %w", err)
	}
	if in.Composition, err = structpb.NewStruct(comp); err != nil {
		return fmt.Errorf("cannot convert Composition to protobuf: %w", err)
	}
	if o.observed != "" {
		observed, err := loadAll(o.observed)
		if err != nil {
			return fmt.Errorf("cannot load observed composed resources from %q: %w", o.observed, err)
		}
		for _, u := range observed {
			s, err := structpb.NewStruct(u)
			if err != nil {
				return fmt.Errorf("cannot convert observed resource to protobuf: %w", err)
			}
			in.ObservedResources = append(in.ObservedResources, s)
		}
	}

	req := &renderv1alpha1.RenderRequest{
		Meta:  &renderv1alpha1.RequestMeta{},
		Input: &renderv1alpha1.RenderRequest_Composite{Composite: in},
	}
	out, err := runCore(o, req)
	if err != nil {
		return fmt.Errorf("cannot render composite resource: %w", err)
	}
	return printOutput(o, xr, out)
}

// checkComposition repeats the CLI's checks before rendering, with its messages.
func checkComposition(xr, comp map[string]any) error {
	ref, _ := nested(comp, "spec", "compositeTypeRef").(map[string]any)
	if ref["kind"] != xr["kind"] {
		return fmt.Errorf("composition's compositeTypeRef.kind (%v) does not match XR's kind (%v)", ref["kind"], xr["kind"])
	}
	if ref["apiVersion"] != xr["apiVersion"] {
		return fmt.Errorf("composition's compositeTypeRef.apiVersion (%v) does not match XR's apiVersion (%v)", ref["apiVersion"], xr["apiVersion"])
	}
	if mode, _ := nested(comp, "spec", "mode").(string); mode != "Pipeline" {
		return fmt.Errorf("render only supports Composition Function pipelines: Composition %q must use spec.mode: Pipeline", name(comp))
	}
	return nil
}

func loadFunctions(path string) ([]*renderv1alpha1.FunctionInput, error) {
	objs, err := loadAll(path)
	if err != nil {
		return nil, err
	}
	fns := make([]*renderv1alpha1.FunctionInput, 0, len(objs))
	for _, fn := range objs {
		anns, _ := nested(fn, "metadata", "annotations").(map[string]any)
		if anns[annotationRuntime] != "Development" {
			return nil, fmt.Errorf("function %q: only the Development runtime is supported here (annotation %s)", name(fn), annotationRuntime)
		}
		target, _ := anns[annotationDevelopmentTarget].(string)
		if target == "" {
			target = defaultDevelopmentTarget
		}
		fns = append(fns, &renderv1alpha1.FunctionInput{Name: name(fn), Address: target})
	}
	return fns, nil
}

// applyXRDDefaults defaults the XR from the served version of its XRD's schema that the XR uses, with
// the API server's own structural defaulting (as the CLI's `--xrd` does).
func applyXRDDefaults(xr, xrd map[string]any) error {
	group, _ := nested(xrd, "spec", "group").(string)
	versions, _ := nested(xrd, "spec", "versions").([]any)
	for _, v := range versions {
		version, _ := v.(map[string]any)
		if fmt.Sprintf("%s/%v", group, version["name"]) != xr["apiVersion"] {
			continue
		}
		raw, _ := nested(version, "schema", "openAPIV3Schema").(map[string]any)
		v1props := &extv1.JSONSchemaProps{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, v1props); err != nil {
			return err
		}
		var props apiextensions.JSONSchemaProps
		if err := extv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v1props, &props, nil); err != nil {
			return err
		}
		structural, err := structuralschema.NewStructural(&props)
		if err != nil {
			return err
		}
		structuraldefaulting.Default(xr, structural)
		return nil
	}
	return fmt.Errorf("the specified API version '%v' does not exist in the XRD", xr["apiVersion"])
}

func runCore(o options, req *renderv1alpha1.RenderRequest) (*renderv1alpha1.CompositeOutput, error) {
	data, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.core, "internal", "render", "--timeout="+o.timeout.String())
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", o.core, err, strings.TrimSpace(stderr.String()))
	}
	rsp := &renderv1alpha1.RenderResponse{}
	if err := proto.Unmarshal(stdout.Bytes(), rsp); err != nil {
		return nil, fmt.Errorf("cannot unmarshal render response: %w", err)
	}
	out := rsp.GetComposite()
	if out == nil {
		return nil, fmt.Errorf("render response does not contain a composite output")
	}
	return out, nil
}

func printOutput(o options, xr map[string]any, out *renderv1alpha1.CompositeOutput) error {
	result := out.GetCompositeResource().AsMap()
	if o.includeFullXR {
		merged := runtime.DeepCopyJSON(xr)
		if err := mergo.Merge(&merged, result, mergo.WithOverride); err != nil {
			return fmt.Errorf("cannot merge updated XR: %w", err)
		}
		result = merged
	}
	composed := make([]map[string]any, 0, len(out.GetComposedResources()))
	for _, s := range out.GetComposedResources() {
		composed = append(composed, s.AsMap())
	}
	sort.SliceStable(composed, func(i, j int) bool {
		return resourceName(composed[i]) < resourceName(composed[j])
	})
	all := append([]map[string]any{result}, composed...)
	for _, obj := range all {
		stableConditionTimes(obj)
	}
	if o.output == "json" {
		b, err := json.Marshal(all)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	}
	var buf bytes.Buffer
	for _, obj := range all {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	_, err := os.Stdout.Write(buf.Bytes())
	return err
}

func resourceName(obj map[string]any) string {
	anns, _ := nested(obj, "metadata", "annotations").(map[string]any)
	s, _ := anns[annotationResourceName].(string)
	return s
}

func stableConditionTimes(obj map[string]any) {
	conditions, _ := nested(obj, "status", "conditions").([]any)
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok {
			m["lastTransitionTime"] = stableTimestamp
		}
	}
}

func loadOne(path string) (map[string]any, error) {
	objs, err := loadAll(path)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("want exactly one object, found %d", len(objs))
	}
	return objs[0], nil
}

// loadAll reads every YAML document of a file, or of every .yaml/.yml/.json file of a folder.
func loadAll(path string) ([]map[string]any, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, e := range entries {
			switch filepath.Ext(e.Name()) {
			case ".yaml", ".yml", ".json":
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(files)
	}
	var objs []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			obj := map[string]any{}
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if len(obj) > 0 {
				objs = append(objs, obj)
			}
		}
	}
	return objs, nil
}

func nested(obj map[string]any, keys ...string) any {
	var cur any = obj
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func name(obj map[string]any) string {
	s, _ := nested(obj, "metadata", "name").(string)
	return s
}
