// N-API bindings only: argument conversion, error mapping, the thread-safe
// function that wakes JS when workers have events. All logic lives in the
// N-API-free core (engine.h and below).
#include <napi.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "sound.h"
#include "worker.h"

namespace {

using media::Engine;
using media::MediaError;

struct AddonData {
  Napi::FunctionReference soundCtor;
};

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void throwError(Napi::Env env, const std::string& code, const std::string& message) {
  throw makeError(env, code, message);
}

// Runs `fn`, turning core exceptions into JS errors carrying `code`.
template <typename F>
auto guarded(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const MediaError& e) {
    throwError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throwError(env, "ENOMEM", "out of memory");
  } catch (const std::exception& e) {
    throwError(env, "EINTERNAL", e.what());
  }
}

uint32_t argU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throwError(info.Env(), "EINVAL", std::string(name) + " must be a number");
  }
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint32_t>(v))) {
    throwError(info.Env(), "EINVAL", std::string(name) + " must be a non-negative integer");
  }
  return static_cast<uint32_t>(v);
}

bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean()) {
    throwError(info.Env(), "EINVAL", std::string(name) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

int optInt(Napi::Object o, const char* key, int def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throwError(o.Env(), "EINVAL", std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

// ---------------------------------------------------------------- Sound

class NativeSound : public Napi::ObjectWrap<NativeSound> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeSound",
                       {InstanceAccessor<&NativeSound::DurationMs>("durationMs"),
                        InstanceAccessor<&NativeSound::Samples>("samples")});
  }
  explicit NativeSound(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSound>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
      throwError(info.Env(), "EINVAL", "NativeSound cannot be constructed directly");
    }
    sound_ = *info[0].As<Napi::External<media::SoundPtr>>().Data();
  }
  static Napi::Object Wrap(Napi::Env env, media::SoundPtr sound) {
    AddonData* data = env.GetInstanceData<AddonData>();
    media::SoundPtr holder = std::move(sound);
    // The external only lives for the constructor call.
    Napi::External<media::SoundPtr> ext = Napi::External<media::SoundPtr>::New(env, &holder);
    return data->soundCtor.New({ext});
  }
  const media::SoundPtr& sound() const { return sound_; }

 private:
  Napi::Value DurationMs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), sound_->durationMs());
  }
  Napi::Value Samples(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(sound_->samples.size()));
  }
  media::SoundPtr sound_;
};

Napi::Value LoadSound(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throwError(env, "EINVAL", "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  auto sound = std::make_shared<media::Sound>();
  std::string err;
  if (!guarded(env, [&] { return media::loadWavFile(path, *sound, err); })) throwError(env, "ESOUND", err);
  return NativeSound::Wrap(env, std::move(sound));
}

// parseSound(buffer, name): a WAV image already read by JS (async fs).
Napi::Value ParseSound(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) throwError(env, "EINVAL", "parseSound(buffer, name)");
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  const std::string name = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "sound";
  auto sound = std::make_shared<media::Sound>();
  std::string err;
  if (!guarded(env, [&] { return media::parseWav(buf.Data(), buf.Length(), *sound, err); })) {
    throwError(env, "ESOUND", name + ": " + err);
  }
  return NativeSound::Wrap(env, std::move(sound));
}

Napi::Value CreateToneSound(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throwError(env, "EINVAL", "createToneSound(frequencies[], durationMs, levelDbfs)");
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<double> freqs;
  for (uint32_t i = 0; i < arr.Length() && i < 16; i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) throwError(env, "EINVAL", "frequencies must be numbers");
    freqs.push_back(v.As<Napi::Number>().DoubleValue());
  }
  const double dur = info[1].As<Napi::Number>().DoubleValue();
  if (!(dur >= 1 && dur <= 3600000)) throwError(env, "EINVAL", "durationMs out of range");
  const double level = info[2].As<Napi::Number>().DoubleValue();
  auto sound = std::make_shared<media::Sound>();
  std::string err;
  if (!guarded(env, [&] { return media::makeTone(freqs, static_cast<uint32_t>(dur), level, *sound, err); })) {
    throwError(env, "EINVAL", err);
  }
  return NativeSound::Wrap(env, std::move(sound));
}

// The sounds of a JS array that must hold only NativeSound objects.
std::vector<media::SoundPtr> soundsOf(Napi::Env env, Napi::Array arr) {
  AddonData* data = env.GetInstanceData<AddonData>();
  std::vector<media::SoundPtr> sounds;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(data->soundCtor.Value())) {
      throwError(env, "EINVAL", "sounds must be NativeSound objects");
    }
    sounds.push_back(NativeSound::Unwrap(v.As<Napi::Object>())->sound());
  }
  return sounds;
}

// The packet counters that legStats() and stats() both report.
template <typename Snapshot>
void setPacketCounters(Napi::Object o, const Snapshot& s) {
  o.Set("packetsReceived", static_cast<double>(s.packetsReceived));
  o.Set("packetsSent", static_cast<double>(s.packetsSent));
  o.Set("packetsMalformed", static_cast<double>(s.packetsMalformed));
  o.Set("packetsFromStrangers", static_cast<double>(s.packetsFromStrangers));
  o.Set("packetsUnknownPayload", static_cast<double>(s.packetsUnknownPayload));
}

// ---------------------------------------------------------------- Engine

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {
                           InstanceMethod<&NativeEngine::CreateLeg>("createLeg"),
                           InstanceMethod<&NativeEngine::SetRemote>("setRemote"),
                           InstanceMethod<&NativeEngine::SetCodec>("setCodec"),
                           InstanceMethod<&NativeEngine::Play>("play"),
                           InstanceMethod<&NativeEngine::StopPlayback>("stopPlayback"),
                           InstanceMethod<&NativeEngine::SendDigits>("sendDigits"),
                           InstanceMethod<&NativeEngine::SetWhisper>("setWhisper"),
                           InstanceMethod<&NativeEngine::PlayRoom>("playRoom"),
                           InstanceMethod<&NativeEngine::StopRoomPlayback>("stopRoomPlayback"),
                           InstanceMethod<&NativeEngine::StartRecording>("startRecording"),
                           InstanceMethod<&NativeEngine::StopRecording>("stopRecording"),
                           InstanceMethod<&NativeEngine::Join>("join"),
                           InstanceMethod<&NativeEngine::Update>("update"),
                           InstanceMethod<&NativeEngine::Leave>("leave"),
                           InstanceMethod<&NativeEngine::CloseLeg>("closeLeg"),
                           InstanceMethod<&NativeEngine::CreateRoom>("createRoom"),
                           InstanceMethod<&NativeEngine::CloseRoom>("closeRoom"),
                           InstanceMethod<&NativeEngine::SetRoomMaxTalkers>("setRoomMaxTalkers"),
                           InstanceMethod<&NativeEngine::SetGain>("setGain"),
                           InstanceMethod<&NativeEngine::Hold>("hold"),
                           InstanceMethod<&NativeEngine::Unhold>("unhold"),
                           InstanceMethod<&NativeEngine::SetSending>("setSending"),
                           InstanceMethod<&NativeEngine::LegStats>("legStats"),
                           InstanceMethod<&NativeEngine::Stats>("stats"),
                           InstanceMethod<&NativeEngine::DrainEvents>("drainEvents"),
                           InstanceMethod<&NativeEngine::Close>("close"),
                       });
  }

  // new NativeEngine({bindAddress, rtpPortMin, rtpPortMax, workerThreads, rtpTimeoutMs}, onWake)
  explicit NativeEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngine>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throwError(env, "EINVAL", "new NativeEngine(options, onWake)");
    }
    Napi::Object o = info[0].As<Napi::Object>();
    media::EngineConfig cfg;
    Napi::Value ba = o.Get("bindAddress");
    if (!ba.IsString()) throwError(env, "EINVAL", "bindAddress must be a string");
    cfg.bindAddress = ba.As<Napi::String>().Utf8Value();
    cfg.rtpPortMin = optInt(o, "rtpPortMin", -1);
    cfg.rtpPortMax = optInt(o, "rtpPortMax", -1);
    cfg.workerThreads = optInt(o, "workerThreads", 1);
    cfg.rtpTimeoutMs = optInt(o, "rtpTimeoutMs", 30000);
    cfg.maxTalkers = optInt(o, "maxTalkers", 4);
    cfg.rtcpIntervalMs = optInt(o, "rtcpIntervalMs", 5000);
    if (cfg.rtcpIntervalMs < 0) throwError(env, "EINVAL", "rtcpIntervalMs must be >= 0");
    // The JS callback takes no arguments: it calls drainEvents() itself.
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "media-events", 0, 1);
    Napi::ThreadSafeFunction tsfn = tsfn_;
    try {
      engine_ = std::make_unique<Engine>(cfg, [tsfn]() mutable { tsfn.NonBlockingCall(); });
    } catch (const MediaError& e) {
      tsfn_.Release();
      throwError(env, e.code(), e.what());
    } catch (const std::exception& e) {
      tsfn_.Release();
      throwError(env, "EINTERNAL", e.what());
    }
    cleanup_ = env.AddCleanupHook(std::function<void()>([this]() { shutdown(); }));
    hasCleanup_ = true;
  }

  ~NativeEngine() override { shutdown(); }

 private:
  void shutdown() {
    if (engine_) {
      engine_->close();  // joins notifier: no more tsfn calls after this
    }
    if (!released_) {
      released_ = true;
      tsfn_.Release();
    }
  }

  Engine& engine(Napi::Env env) {
    if (!engine_ || engine_->closed()) throwError(env, "ECLOSED", "media engine is closed");
    return *engine_;
  }

  // The tail of every method that returns nothing: `fn(engine)` with core
  // exceptions mapped to JS errors (arguments are checked before, as the
  // engine's state is).
  template <typename F>
  Napi::Value run(Napi::Env env, F&& fn) {
    Engine& e = engine(env);
    guarded(env, [&] { fn(e); });
    return env.Undefined();
  }

  Napi::Value CreateLeg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throwError(env, "EINVAL", "createLeg(options)");
    Napi::Object o = info[0].As<Napi::Object>();
    media::LegParams p;
    p.codec = codecArg(env, o.Get("codec"));
    p.payloadType = optInt(o, "payloadType", -1);
    p.telephoneEventPayloadType = optInt(o, "telephoneEventPayloadType", -1);
    Napi::Value mux = o.Get("rtcpMux");
    if (!mux.IsUndefined() && !mux.IsBoolean()) throwError(env, "EINVAL", "rtcpMux must be a boolean");
    p.rtcpMux = mux.IsBoolean() && mux.As<Napi::Boolean>().Value();
    Engine& e = engine(env);
    media::LegInfo li = guarded(env, [&] { return e.createLeg(p); });
    Napi::Object r = Napi::Object::New(env);
    r.Set("id", Napi::Number::New(env, li.id));
    r.Set("address", Napi::String::New(env, li.address));
    r.Set("port", Napi::Number::New(env, li.port));
    r.Set("rtcpPort", Napi::Number::New(env, li.rtcpPort));
    return r;
  }

  static media::Codec codecArg(Napi::Env env, Napi::Value codec) {
    const std::string c = codec.IsString() ? codec.As<Napi::String>().Utf8Value() : "";
    if (c == "PCMU") return media::Codec::PCMU;
    if (c == "PCMA") return media::Codec::PCMA;
    if (c == "G722") return media::Codec::G722;
    if (c == "opus") return media::Codec::Opus;
    throwError(env, "EINVAL", "unsupported codec '" + c + "'");
    return media::Codec::PCMU;
  }

  Napi::Value SetCodec(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 3) throwError(env, "EINVAL", "setCodec(legId, codec, payloadType)");
    const media::Codec codec = codecArg(env, info[1]);
    const uint32_t pt = argU32(info, 2, "payloadType");
    return run(env, [&](Engine& e) { e.setCodec(id, codec, static_cast<int>(pt)); });
  }

  Napi::Value SetRemote(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 3 || !info[1].IsString()) throwError(env, "EINVAL", "setRemote(legId, address, port)");
    const std::string addr = info[1].As<Napi::String>().Utf8Value();
    const uint32_t port = argU32(info, 2, "port");
    if (port == 0 || port > 65535) throwError(env, "EINVAL", "port out of range");
    return run(env, [&](Engine& e) { e.setRemote(id, addr, static_cast<int>(port)); });
  }

  Napi::Value Play(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 3 || !info[1].IsArray()) throwError(env, "EINVAL", "play(legId, sounds[], interruptible)");
    const bool interruptible = argBool(info, 2, "interruptible");
    const bool queue = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    std::vector<media::SoundPtr> sounds = soundsOf(env, info[1].As<Napi::Array>());
    Engine& e = engine(env);
    const uint32_t pid = guarded(env, [&] { return e.play(id, std::move(sounds), interruptible, queue); });
    return Napi::Number::New(env, pid);
  }

  Napi::Value PlayRoom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "roomId");
    if (info.Length() < 3 || !info[1].IsArray()) throwError(env, "EINVAL", "playRoom(roomId, sounds[], queue)");
    const bool queue = argBool(info, 2, "queue");
    std::vector<media::SoundPtr> sounds = soundsOf(env, info[1].As<Napi::Array>());
    Engine& e = engine(env);
    const uint32_t pid = guarded(env, [&] { return e.playRoom(id, std::move(sounds), queue); });
    return Napi::Number::New(env, pid);
  }

  Napi::Value StopRoomPlayback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "roomId");
    return run(env, [&](Engine& e) { e.stopRoomPlayback(id); });
  }

  Napi::Value StartRecording(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t roomId = argU32(info, 0, "roomId");
    if (info.Length() < 4 || !info[1].IsString() || !info[2].IsString()) {
      throwError(env, "EINVAL", "startRecording(roomId, mixFile, trackDirectory, sampleRate)");
    }
    const std::string mix = info[1].As<Napi::String>().Utf8Value();
    const std::string tracks = info[2].As<Napi::String>().Utf8Value();
    const uint32_t rate = argU32(info, 3, "sampleRate");
    Engine& e = engine(env);
    const uint32_t id = guarded(env, [&] { return e.startRecording(roomId, mix, tracks, static_cast<int>(rate)); });
    return Napi::Number::New(env, id);
  }

  Napi::Value StopRecording(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "recordingId");
    return run(env, [&](Engine& e) { e.stopRecording(id); });
  }

  Napi::Value SetWhisper(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 2 || !info[1].IsArray()) throwError(env, "EINVAL", "setWhisper(legId, targetLegIds[])");
    Napi::Array arr = info[1].As<Napi::Array>();
    if (arr.Length() > 64) throwError(env, "EINVAL", "too many whisper targets");
    std::vector<uint32_t> targets;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsNumber()) throwError(env, "EINVAL", "whisper targets must be leg ids");
      const double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
        throwError(env, "EINVAL", "whisper targets must be leg ids");
      }
      targets.push_back(static_cast<uint32_t>(d));
    }
    return run(env, [&](Engine& e) { e.setWhisper(id, targets); });
  }

  Napi::Value SendDigits(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 4 || !info[1].IsString()) throwError(env, "EINVAL", "sendDigits(legId, digits, durationMs, gapMs)");
    const std::string digits = info[1].As<Napi::String>().Utf8Value();
    const uint32_t dur = argU32(info, 2, "durationMs");
    const uint32_t gap = argU32(info, 3, "gapMs");
    if (dur > 100000 || gap > 100000) throwError(env, "EINVAL", "durationMs and gapMs must be within [20, 5000]");
    Engine& e = engine(env);
    const uint32_t rid = guarded(env, [&] { return e.sendDigits(id, digits, static_cast<int>(dur), static_cast<int>(gap)); });
    return Napi::Number::New(env, rid);
  }

  Napi::Value StopPlayback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    return run(env, [&](Engine& e) { e.stopPlayback(id); });
  }

  Napi::Value Join(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    const uint32_t room = argU32(info, 1, "roomId");
    const bool speak = argBool(info, 2, "speak");
    const bool hear = argBool(info, 3, "hear");
    return run(env, [&](Engine& e) { e.join(id, room, speak, hear); });
  }

  Napi::Value Update(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    const bool speak = argBool(info, 1, "speak");
    const bool hear = argBool(info, 2, "hear");
    return run(env, [&](Engine& e) { e.update(id, speak, hear); });
  }

  Napi::Value Leave(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    return run(env, [&](Engine& e) { e.leave(id); });
  }

  Napi::Value CloseLeg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    return run(env, [&](Engine& e) { e.closeLeg(id); });
  }

  // createRoom(maxTalkers?)
  Napi::Value CreateRoom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int maxTalkers = -1;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      maxTalkers = static_cast<int>(argU32(info, 0, "maxTalkers"));
      if (maxTalkers < 1) throwError(env, "EINVAL", "maxTalkers must be >= 1");
    }
    Engine& e = engine(env);
    const uint32_t id = guarded(env, [&] { return e.createRoom(maxTalkers); });
    return Napi::Number::New(env, id);
  }

  Napi::Value SetRoomMaxTalkers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "roomId");
    const uint32_t n = argU32(info, 1, "maxTalkers");
    return run(env, [&](Engine& e) { e.setRoomMaxTalkers(id, static_cast<int>(n > 1000 ? 1000 : n)); });
  }

  // setGain(legId, inDb, outDb)
  Napi::Value SetGain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
      throwError(env, "EINVAL", "setGain(legId, inDb, outDb)");
    }
    const double in = info[1].As<Napi::Number>().DoubleValue();
    const double out = info[2].As<Napi::Number>().DoubleValue();
    return run(env, [&](Engine& e) { e.setGain(id, in, out); });
  }

  // hold(legId, sounds[]): [] holds with silence.
  Napi::Value Hold(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    if (info.Length() < 2 || !info[1].IsArray()) throwError(env, "EINVAL", "hold(legId, sounds[])");
    std::vector<media::SoundPtr> sounds = soundsOf(env, info[1].As<Napi::Array>());
    return run(env, [&](Engine& e) { e.hold(id, std::move(sounds)); });
  }

  Napi::Value Unhold(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    return run(env, [&](Engine& e) { e.unhold(id); });
  }

  Napi::Value SetSending(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    const bool on = argBool(info, 1, "sending");
    return run(env, [&](Engine& e) { e.setSending(id, on); });
  }

  Napi::Value CloseRoom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "roomId");
    return run(env, [&](Engine& e) { e.closeRoom(id); });
  }

  Napi::Value LegStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t id = argU32(info, 0, "legId");
    Engine& e = engine(env);
    const media::LegStatsSnapshot s = guarded(env, [&] { return e.legStats(id); });
    Napi::Object o = Napi::Object::New(env);
    setPacketCounters(o, s);
    o.Set("framesConcealed", static_cast<double>(s.framesConcealed));
    o.Set("dtmfEvents", static_cast<double>(s.dtmfEvents));
    o.Set("dtmfSuppressed", static_cast<double>(s.dtmfSuppressed));
    o.Set("dtmfInband", static_cast<double>(s.dtmfInband));
    o.Set("framesDtmfGated", static_cast<double>(s.framesDtmfGated));
    o.Set("jitterBufferMs", static_cast<double>(s.jitterDelaySamples) / 8.0);
    o.Set("jitterTargetMs", static_cast<double>(s.jitterTargetSamples) / 8.0);
    o.Set("jitterFramesInserted", static_cast<double>(s.jitterFramesInserted));
    o.Set("jitterFramesDropped", static_cast<double>(s.jitterFramesDropped));
    o.Set("packetsLate", static_cast<double>(s.packetsLate));
    o.Set("bytesReceived", static_cast<double>(s.bytesReceived));
    o.Set("bytesSent", static_cast<double>(s.bytesSent));
    o.Set("packetsLost", static_cast<double>(s.packetsLost));
    o.Set("fractionLost", static_cast<double>(s.fractionLost) / 256.0);
    o.Set("jitterMs", static_cast<double>(s.jitterRtp) / 8.0);
    o.Set("rtcpSent", static_cast<double>(s.rtcpSent));
    o.Set("rtcpReceived", static_cast<double>(s.rtcpReceived));
    o.Set("rtcpMalformed", static_cast<double>(s.rtcpMalformed));
    o.Set("remotePacketsLost", static_cast<double>(s.remotePacketsLost));
    o.Set("remoteFractionLost", static_cast<double>(s.remoteFractionLost) / 256.0);
    o.Set("remoteJitterMs", static_cast<double>(s.remoteJitterRtp) / 8.0);
    if (s.rttUs >= 0) o.Set("rttMs", static_cast<double>(s.rttUs) / 1000.0);
    else o.Set("rttMs", env.Null());
    return o;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    const media::EngineStatsSnapshot s = e.stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("legs", static_cast<double>(s.legs));
    o.Set("rooms", static_cast<double>(s.rooms));
    o.Set("ticks", static_cast<double>(s.ticks));
    o.Set("lateTicks", static_cast<double>(s.lateTicks));
    setPacketCounters(o, s);
    o.Set("eventsDropped", static_cast<double>(s.eventsDropped));
    o.Set("eventsDeferred", static_cast<double>(s.eventsDeferred));
    Napi::Array hist = Napi::Array::New(env, s.tickLateness.size());
    for (uint32_t i = 0; i < s.tickLateness.size(); i++) hist.Set(i, static_cast<double>(s.tickLateness[i]));
    o.Set("tickLatenessCounts", hist);
    Napi::Object h = Napi::Object::New(env);
    h.Set("bucketUs", Napi::Number::New(env, media::Worker::kLatenessBucketUs));
    h.Set("counts", hist);
    o.Set("tickLatenessHistogramUs", h);
    o.Set("ioBackend", s.ioBackend);
    o.Set("ioFallbackReason", s.ioFallbackReason);
    return o;
  }

  // Returns the pending events as plain objects; [] once closed.
  Napi::Value DrainEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array arr = Napi::Array::New(env);
    if (!engine_ || engine_->closed()) return arr;
    std::vector<media::UserEvent> events;
    guarded(env, [&] { engine_->drainEvents(events); });
    uint32_t i = 0;
    for (const media::UserEvent& u : events) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("legId", Napi::Number::New(env, u.legId));
      switch (u.type) {
        case media::UserEvent::Type::Dtmf:
          o.Set("type", "dtmf");
          o.Set("digit", std::string(1, u.digit));
          o.Set("source", u.dtmfInband ? "inband" : "rfc4733");
          o.Set("durationMs", Napi::Number::New(env, u.durationMs));
          break;
        case media::UserEvent::Type::PlaybackDone:
          o.Set("type", "playbackDone");
          o.Set("playbackId", Napi::Number::New(env, u.playbackId));
          if (u.roomId != 0) o.Set("roomId", Napi::Number::New(env, u.roomId));
          o.Set("interrupted", Napi::Boolean::New(env, u.interrupted));
          break;
        case media::UserEvent::Type::RecordingDone: {
          o.Set("type", "recordingDone");
          o.Set("recordingId", Napi::Number::New(env, u.recordingId));
          if (!u.error.empty()) o.Set("error", u.error);
          o.Set("durationMs", Napi::Number::New(env, static_cast<double>(u.recordedMs)));
          o.Set("framesDropped", Napi::Number::New(env, static_cast<double>(u.framesDropped)));
          Napi::Array tracks = Napi::Array::New(env, u.tracks.size());
          for (uint32_t k = 0; k < u.tracks.size(); k++) {
            Napi::Object t = Napi::Object::New(env);
            t.Set("legId", Napi::Number::New(env, u.tracks[k].legId));
            t.Set("file", u.tracks[k].path);
            tracks.Set(k, t);
          }
          o.Set("tracks", tracks);
          break;
        }
        case media::UserEvent::Type::DigitsSent:
          o.Set("type", "digitsSent");
          o.Set("requestId", Napi::Number::New(env, u.requestId));
          o.Set("interrupted", Napi::Boolean::New(env, u.interrupted));
          break;
        case media::UserEvent::Type::RtpTimeout:
          o.Set("type", "rtpTimeout");
          break;
        case media::UserEvent::Type::Talking:
          o.Set("type", "talking");
          o.Set("talking", Napi::Boolean::New(env, u.talking));
          o.Set("energy", Napi::Number::New(env, std::round(u.energy * 10) / 10));
          break;
      }
      arr.Set(i++, o);
    }
    return arr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    shutdown();
    if (hasCleanup_) {
      cleanup_.Remove(env);
      hasCleanup_ = false;
    }
    return env.Undefined();
  }

  std::unique_ptr<Engine> engine_;
  Napi::ThreadSafeFunction tsfn_;
  bool released_ = false;
  Napi::Env::CleanupHook<std::function<void()>> cleanup_;
  bool hasCleanup_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  Napi::Function soundCtor = NativeSound::Init(env);
  data->soundCtor = Napi::Persistent(soundCtor);
  env.SetInstanceData<AddonData>(data);
  exports.Set("NativeSound", soundCtor);
  exports.Set("NativeEngine", NativeEngine::Init(env));
  exports.Set("loadSound", Napi::Function::New<LoadSound>(env, "loadSound"));
  exports.Set("parseSound", Napi::Function::New<ParseSound>(env, "parseSound"));
  exports.Set("maxSoundFileBytes", Napi::Number::New(env, static_cast<double>(media::kMaxWavBytes)));
  exports.Set("createToneSound", Napi::Function::New<CreateToneSound>(env, "createToneSound"));
  return exports;
}

}  // namespace

NODE_API_MODULE(media, Init)
