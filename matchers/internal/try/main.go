package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

func main() {
	w, err := matchers.LoadWatchlist("configs/watchlist.yaml")
	if err != nil { panic(err) }
	m, err := matchers.Compile(w)
	if err != nil { panic(err) }
	for _, t := range os.Args[1:] {
		ms := m.Match(precwatch.Listing{Title: t})
		fmt.Println("==", t)
		for _, x := range ms {
			b, _ := json.Marshal(x)
			fmt.Println(string(b))
		}
	}
}
