{
  "targets": [
    {
      "target_name": "media",
      "sources": [
        "src/addon.cc",
        "src/audio_codec.cc",
        "src/concealer.cc",
        "src/batch_io.cc",
        "src/engine.cc",
        "src/g711.cc",
        "src/inband_dtmf.cc",
        "src/jitter_buffer.cc",
        "src/leg.cc",
        "src/mix.cc",
        "src/notifier.cc",
        "src/opus_codec.cc",
        "src/recorder.cc",
        "src/resampler.cc",
        "src/rfc4733.cc",
        "src/rfc4733_sender.cc",
        "src/rtcp.cc",
        "src/rtp.cc",
        "src/sockaddr.cc",
        "src/sound.cc",
        "src/worker.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED" ],
      "cflags!": [ "-fno-exceptions", "-fno-rtti" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20" ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-O3", "-fexceptions" ],
      "ldflags": [ "-pthread" ],
      "libraries": [ "-lspandsp", "-lspeexdsp", "-lopus", "-lm" ]
    }
  ]
}
