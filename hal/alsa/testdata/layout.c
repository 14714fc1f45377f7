/* layout.c: what gcc makes of Linux's <sound/asound.h> (Debian
 * linux-libc-dev), printed as "name value" lines for hal/alsa's test to
 * compare with its Go structs and ioctl numbers. Test-only. */
#include <stdio.h>
#include <stddef.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sound/asound.h>

#define P(name, v) printf("%s %lu\n", name, (unsigned long)(v))

int main(void) {
	P("sizeof_hw_params", sizeof(struct snd_pcm_hw_params));
	P("offset_hw_masks", offsetof(struct snd_pcm_hw_params, masks));
	P("offset_hw_intervals", offsetof(struct snd_pcm_hw_params, intervals));
	P("offset_hw_rmask", offsetof(struct snd_pcm_hw_params, rmask));
	P("offset_hw_fifo_size", offsetof(struct snd_pcm_hw_params, fifo_size));
	P("sizeof_interval", sizeof(struct snd_interval));
	P("sizeof_mask", sizeof(struct snd_mask));
	P("sizeof_sw_params", sizeof(struct snd_pcm_sw_params));
	P("offset_sw_avail_min", offsetof(struct snd_pcm_sw_params, avail_min));
	P("offset_sw_start_threshold", offsetof(struct snd_pcm_sw_params, start_threshold));
	P("offset_sw_boundary", offsetof(struct snd_pcm_sw_params, boundary));
	P("sizeof_xferi", sizeof(struct snd_xferi));
	P("offset_xferi_frames", offsetof(struct snd_xferi, frames));
	P("ioctl_hw_params", SNDRV_PCM_IOCTL_HW_PARAMS);
	P("ioctl_sw_params", SNDRV_PCM_IOCTL_SW_PARAMS);
	P("ioctl_prepare", SNDRV_PCM_IOCTL_PREPARE);
	P("ioctl_start", SNDRV_PCM_IOCTL_START);
	P("ioctl_drop", SNDRV_PCM_IOCTL_DROP);
	P("ioctl_writei", SNDRV_PCM_IOCTL_WRITEI_FRAMES);
	P("ioctl_readi", SNDRV_PCM_IOCTL_READI_FRAMES);
	P("format_s8", SNDRV_PCM_FORMAT_S8);
	P("format_s16_le", SNDRV_PCM_FORMAT_S16_LE);
	P("access_rw_interleaved", SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	P("param_channels", SNDRV_PCM_HW_PARAM_CHANNELS);
	P("param_rate", SNDRV_PCM_HW_PARAM_RATE);
	P("param_period_size", SNDRV_PCM_HW_PARAM_PERIOD_SIZE);
	P("param_periods", SNDRV_PCM_HW_PARAM_PERIODS);
	P("param_first_interval", SNDRV_PCM_HW_PARAM_FIRST_INTERVAL);
	return 0;
}
