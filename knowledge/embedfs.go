package knowledge

import "io/fs"

// EmbeddedFS is the embedded topic files, for `beianbot kb lint` with no
// directory. Its name in messages is "knowledge/data".
func EmbeddedFS() fs.FS {
	sub, err := fs.Sub(embedded, "data")
	if err != nil { // "data" is a fixed, valid path: fs.Sub cannot fail on it
		return embedded
	}
	return sub
}
