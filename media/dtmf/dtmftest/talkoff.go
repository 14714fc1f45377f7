package dtmftest

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"

	"jinyin/media/tone"
	"jinyin/media/wav"
)

// Speech lists talk-off utterances: IVR and broadcast-style sentences in
// Mandarin and English, each spoken by espeak-ng at several pitches and rates.
var Speech = []struct{ Voice, Text string }{
	{"cmn", "您好，欢迎致电客户服务中心。查询订单请按二，投诉建议请按五，人工服务请按零。"},
	{"cmn", "今日股市评论：上证指数上涨百分之一点二，成交量明显放大，券商板块领涨，科技股午后回落。"},
	{"cmn", "您的快递已经从深圳发出，预计明天下午三点到达，如需改约请在工作时间内联系我们。"},
	{"cmn", "七八九，一二三，四五六，零。请问您是要退货还是换货？我们会在一小时内给您回电。"},
	{"en", "Thank you for calling. For order status press two. For complaints press five. To speak to an agent press zero."},
	{"en", "Markets closed higher today as technology shares rallied in the afternoon session, led by semiconductor makers."},
	{"en", "Your parcel has left the depot and will arrive tomorrow between nine and eleven in the morning."},
	{"en-us", "One two three four five six seven eight nine zero, star, pound. Please hold while we transfer your call."},
}

// Espeak renders text with espeak-ng and sox into 8 kHz 16-bit samples.
func Espeak(voice, text string, pitch, rateWPM int) ([]int16, error) {
	es := exec.Command("espeak-ng", "-v", voice, "-p", fmt.Sprint(pitch), "-s", fmt.Sprint(rateWPM), "--stdout", text)
	sx := exec.Command("sox", "-t", "wav", "-", "-t", "wav", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-", "gain", "-n", "-6")
	var err error
	if sx.Stdin, err = es.StdoutPipe(); err != nil {
		return nil, err
	}
	var out, esErr, sxErr bytes.Buffer
	sx.Stdout, sx.Stderr, es.Stderr = &out, &sxErr, &esErr
	if err := sx.Start(); err != nil {
		return nil, err
	}
	if err := es.Run(); err != nil {
		sx.Wait()
		return nil, fmt.Errorf("espeak-ng: %v: %s", err, esErr.String())
	}
	if err := sx.Wait(); err != nil {
		return nil, fmt.Errorf("sox: %v: %s", err, sxErr.String())
	}
	a, err := wav.Decode(&out)
	if err != nil {
		return nil, err
	}
	return a.Samples, nil
}

// Music returns synthetic talk-off material, 4 s each: chords with
// harmonics, a melody, whistles with vibrato sweeping through the DTMF
// bands, two whistles at once, and a glissando.
func Music() map[string][]int16 {
	const n = 4 * 8000
	out := map[string][]int16{}
	render := func(name string, f func(i int) float64) {
		acc := make([]float64, n)
		for i := range acc {
			acc[i] = f(i)
		}
		pcm := make([]int16, n)
		tone.Mix(pcm, acc)
		out[name] = pcm
	}
	amp := 6000.0
	note := func(hz float64, i int) float64 { // a note with decaying harmonics
		t := float64(i) / 8000
		v := 0.0
		for h := 1.0; h <= 6; h++ {
			v += math.Sin(2*math.Pi*hz*h*t) / h
		}
		return v
	}
	// Chords change every half second through common progressions.
	chords := [][]float64{{261.6, 329.6, 392.0}, {349.2, 440.0, 523.3}, {392.0, 493.9, 587.3}, {220.0, 261.6, 329.6},
		{293.7, 370.0, 440.0}, {329.6, 415.3, 493.9}, {246.9, 311.1, 370.0}, {277.2, 349.2, 415.3}}
	render("chords", func(i int) float64 {
		c := chords[i/4000%len(chords)]
		return amp / 3 * (note(c[0], i) + note(c[1], i) + note(c[2], i)) / 2
	})
	melody := []float64{659.3, 587.3, 523.3, 587.3, 659.3, 659.3, 659.3, 587.3, 587.3, 587.3, 659.3, 784.0, 784.0, 880.0, 987.8, 1046.5}
	render("melody", func(i int) float64 { return amp * 0.6 * note(melody[i/2000%len(melody)], i) })
	phase1, phase2 := 0.0, 0.0
	render("whistle", func(i int) float64 {
		t := float64(i) / 8000
		f := 700 + 950*(0.5+0.5*math.Sin(2*math.Pi*0.3*t)) + 25*math.Sin(2*math.Pi*5.5*t)
		phase1 += 2 * math.Pi * f / 8000
		return amp * math.Sin(phase1)
	})
	phase1 = 0
	render("two whistles", func(i int) float64 {
		t := float64(i) / 8000
		f1 := 820 + 120*math.Sin(2*math.Pi*0.37*t) + 15*math.Sin(2*math.Pi*6*t)
		f2 := 1400 + 230*math.Sin(2*math.Pi*0.23*t) + 20*math.Sin(2*math.Pi*5*t)
		phase1 += 2 * math.Pi * f1 / 8000
		phase2 += 2 * math.Pi * f2 / 8000
		return amp * (math.Sin(phase1) + math.Sin(phase2))
	})
	phase1 = 0
	render("glissando", func(i int) float64 {
		f := 500 + 1400*float64(i)/n
		phase1 += 2 * math.Pi * f / 8000
		return amp * (math.Sin(phase1) + 0.5*math.Sin(2*phase1))
	})
	return out
}
