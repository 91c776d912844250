package vendorid_test

import (
	"fmt"

	"github.com/precwatch/precwatch/crawler/extract/vendorid"
)

func ExampleFind() {
	text := `Ships from EU, tracked. Telegram: @Parcel_Desk
Mail: desk [at] parcel (dot) example - pay BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4
or ETH 0x27b1fdb04752bbc536007a920d24acb045561c26
Follow @parcel_news, tx 0x9fc76417374aa880d4449a1f7f31ec597f00b1f6f3dd2d66f4c9c6c445836d8b`
	for _, id := range vendorid.Find(text) {
		fmt.Printf("%s %s %q\n", id.Kind, id.Value, text[id.Start:id.End])
	}
	// Output:
	// telegram parcel_desk "@Parcel_Desk"
	// email desk@parcel.example "desk [at] parcel (dot) example"
	// btc bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"
	// eth 0x27b1fdb04752bbc536007a920d24acb045561c26 "0x27b1fdb04752bbc536007a920d24acb045561c26"
}
