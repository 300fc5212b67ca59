//go:build race

package main

// raceEnabled: the tests run with -race, so the daemon they build does too
// (its packages are then already in the build cache).
const raceEnabled = true
