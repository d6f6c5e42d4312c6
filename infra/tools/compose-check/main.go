// compose-check validates Compose files the way `docker compose config` does, without a Docker
// engine: it loads them with compose-go (the Compose Specification's reference loader, the library
// the docker compose CLI is built on) — schema validation, interpolation, extends/anchors, and the
// cross-checks (depends_on, networks, volumes, secrets referenced but not declared) — and prints the
// resolved project as YAML. Exit status 1 with the loader's message on the first problem.
//
//	compose-check [-env-file FILE] [-q] compose.yaml [more.yaml …]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	envFile := flag.String("env-file", "", "an env file for interpolation (as docker compose --env-file)")
	quiet := flag.Bool("q", false, "only validate, print nothing")
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-env-file FILE] [-q] compose.yaml [more.yaml …]")
		os.Exit(2)
	}
	options := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithOsEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	}
	if *envFile != "" {
		options = append(options, cli.WithEnvFiles(*envFile), cli.WithDotEnv)
	}
	projectOptions, err := cli.NewProjectOptions(files, options...)
	if err != nil {
		fail(err)
	}
	project, err := projectOptions.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	if *quiet {
		return
	}
	out, err := project.MarshalYAML()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
