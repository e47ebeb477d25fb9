package models_test

import (
	"fmt"

	"dcim/models"
)

func ExampleParse() {
	a, err := models.Parse("(3,1,32), (2,2,32), (50), (10)")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(a), "layers:", a)
	fmt.Println(a[1].Kind == models.Conv, a[1].K, a[1].S, a[1].C)

	_, err = models.Parse("(3,1,x)")
	fmt.Println(err)
	// Output:
	// 4 layers: (3,1,32),(2,2,32),(50),(10)
	// true 2 2 32
	// arch "(3,1,x)": bad number "x" at position 6
}

func ExampleArch_Shapes() {
	a, _ := models.Parse("(4,1,32),(2,2,32),(10)")
	_, err := a.Shapes(models.MNISTInput, models.MNISTClasses)
	fmt.Println(err)
	// Output:
	// layer 2 (2,2,32): stride 2 does not tile input 25×25: (25-2) is not a multiple of 2
}

func ExampleArch_Summary() {
	cnn := models.MustParse("(3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10)") // the paper's CNN, §3.2
	s, err := cnn.Summary(models.MNISTInput, models.MNISTClasses)
	if err != nil {
		panic(err)
	}
	fmt.Print(s)
	// Output:
	// layer  notation  output    params
	// 0      input     1×28×28        -
	// 1      (3,1,32)  32×26×26     320
	// 2      (3,1,32)  32×24×24    9248
	// 3      (2,2,32)  32×12×12    4128
	// 4      (3,1,64)  64×10×10   18496
	// 5      (3,1,64)  64×8×8     36928
	// 6      (2,2,64)  64×4×4     16448
	// 7      (50)      50         51250
	// 8      (10)      10           510
	//        a^0       1×28×28      784
	// total                      138112
}
