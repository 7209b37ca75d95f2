// protocol/types.ts - the WebSocket messages of DESIGN.md as TypeScript unions.
//
// NOTES: client messages are discriminated by `action`, server messages by
// `type`. Only the fields the public contract names are typed; the parser in
// codec.ts checks them and ignores anything else, so a newer server that adds
// fields beside these keeps working with this dashboard.

/** Parameters a client may send in `init` and `set_params`. */
export interface StreamParams {
  gain: number; // dB, 0..60 on the dashboard
  filter_enabled: boolean;
  cutoff_freq: number; // Hz, clamped by the server to 0.45 fs
  integration_time: number; // s, 0 = no smoothing
  filter_order: number; // 2..8
  fft_size: number; // power of two, 256..16384
  bands: number; // spectrum_db bands, 0 = not sent
  waveform_points: number; // min/max pairs, 0 = not sent
  max_meter_rate: number; // meters per second at most, 0 = one per frame
  monitor: boolean; // processed audio comes back as binary frames
}

export interface InitMessage extends Partial<StreamParams> {
  action: "init";
  sample_rate: number;
  channels: 1 | 2;
}

export interface SetParamsMessage extends Partial<StreamParams> {
  action: "set_params";
}

export interface StartRecordMessage {
  action: "start_record";
  sample_rate?: number;
  channels?: 1 | 2;
}

export interface StopRecordMessage {
  action: "stop_record";
}

export type ClientMessage =
  | InitMessage
  | SetParamsMessage
  | StartRecordMessage
  | StopRecordMessage;

export interface ReadyMessage {
  type: "ready";
  sample_rate: number;
  channels: number;
  fft_size?: number;
  bands?: number;
  band_hz?: number[];
  filter_order?: number;
  cutoff_freq?: number; // effective cutoff after clamping
}

export interface MeterMessage {
  type: "meter";
  rms: number; // dBFS of the mono mix, smoothed
  spectrum: number[]; // 32 log-spaced bands, -80..0 dB mapped to 0..1
  panning: number; // -1 (left) .. +1 (right)
  seq?: number;
  rms_db?: number[];
  peak_db?: number[];
  peak_hold_db?: number[];
  clips?: number[];
  correlation?: number;
  spectrum_db?: number[];
  band_hz?: number[];
  waveform?: number[]; // min0,max0,min1,max1,... in -1..1
  dropped?: number; // meters the server dropped
}

export interface RecordingSavedMessage {
  type: "recording_saved";
  id: number;
  filename: string;
  duration_seconds: number;
}

/** Stable error codes of the protocol; others may appear and are kept as text. */
export type ErrorCode =
  | "bad_json"
  | "unknown_action"
  | "out_of_range"
  | "bad_type"
  | "worker_restarted"
  | "recording_failed"
  | "too_fast"
  | (string & {});

export interface ErrorMessage {
  type: "error";
  code: ErrorCode;
  message: string;
}

export type ServerMessage =
  | ReadyMessage
  | MeterMessage
  | RecordingSavedMessage
  | ErrorMessage;

/** Result of parsing a text frame: a message, or why it was rejected. */
export type ParseResult =
  | { ok: true; message: ServerMessage }
  | { ok: false; reason: string };

/** One row of GET /recordings. */
export interface Recording {
  id: number;
  filename: string;
  duration_seconds: number;
  timestamp: string; // ISO 8601 UTC
  session_id: string;
  settings?: unknown;
  channels?: number;
  sample_rate?: number;
  size_bytes?: number;
  state?: string;
}

/** WebSocket close codes of the protocol. */
export const CLOSE_BAD_SESSION = 4000;
export const CLOSE_TAKEN_OVER = 4001;
