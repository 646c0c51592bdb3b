/*
 * Rig controller firmware, ATmega328P @ 16 MHz (Arduino Uno/Nano class board).
 *
 * Speaks hardware/PROTOCOL.md (version 1) on USART0 at 115200 8N1:
 *   light box PWM on OC0A, turntable stepper (STEP/DIR/EN) driven from a Timer1 ISR at
 *   constant speed, home switch, lid switch and start button debounced in a 1 kHz Timer2 tick.
 * Pin map and build/flash instructions: hardware/README.md.
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdint.h>
#include <string.h>
#include <util/atomic.h>
#include <util/crc16.h>

#ifndef F_CPU
#error "F_CPU must be set by the Makefile"
#endif

/* ---- protocol constants (keep in step with devices/rig/protocol.py) ---------------- */
#define PROTO_VERSION 1
#define FW_MAJOR 1
#define FW_MINOR 0
#define FW_PATCH 0
#define MODEL "RIG-328P"

#define SYNC 0xA5
#define MAX_PAYLOAD 48
#define MAX_FRAME (MAX_PAYLOAD + 6)

enum { CMD_IDENTIFY = 0x01, CMD_GET_STATUS, CMD_SET_LIGHT, CMD_ROTATE_TO, CMD_HOME, CMD_STOP, CMD_ECHO,
       CMD_EVENT_ACK = 0x40 };
enum { MSG_ACK = 0x80, MSG_NAK = 0x81, MSG_EVENT = 0x82 };
enum { E_OK = 0, E_BAD_CRC, E_BAD_LENGTH, E_UNKNOWN_CMD, E_BAD_ARG, E_BUSY, E_NOT_HOMED, E_STALL,
       E_LID_OPEN, E_STOPPED };
enum { EV_BOOT = 1, EV_BUTTON, EV_LID_OPENED, EV_LID_CLOSED, EV_MOVE_DONE, EV_HOME_DONE };

/* ---- pins -------------------------------------------------------------------------- */
#define LIGHT_BIT PD6 /* OC0A, Arduino D6 -> MOSFET gate of the LED strip */
#define STEP_BIT PB1  /* D9  -> driver STEP */
#define DIR_BIT PB0   /* D8  -> driver DIR */
#define EN_BIT PB2    /* D10 -> driver /EN (active low) */
#define LED_BIT PB5   /* D13 on-board LED: lit while moving */
#define HOME_BIT PC0  /* A0 home switch to GND */
#define LID_BIT PC1   /* A1 lid switch to GND when closed (broken wire reads "open": safe) */
#define BTN_BIT PC2   /* A2 start button to GND */

/* ---- mechanics --------------------------------------------------------------------- */
#define STEPS_PER_TURN 28800UL /* 200 steps x 16 microsteps x 9:1 belt */
#define STEPS_PER_TENTH 8
#define STEP_HZ 7200UL /* 90 deg/s */
#define HOME_MAX_STEPS (STEPS_PER_TURN + STEPS_PER_TURN / 10)
#define DEBOUNCE_MS 20
#define PARTIAL_FRAME_MS 20
#define EVENT_RETRY_MS 100
#define EVENT_MAX_TRIES 10
#define EVENT_QUEUE 8

/* ---- time base: Timer2 CTC 1 kHz, also samples and debounces the switches --------- */
static volatile uint16_t ms_now;
static volatile uint8_t lid_open_stable, button_stable, inputs_changed;
static uint8_t lid_cnt, btn_cnt;

ISR(TIMER2_COMPA_vect) {
    ms_now++;
    uint8_t pins = PINC;
    uint8_t lid_raw = (pins & _BV(LID_BIT)) ? 1 : 0; /* high = open */
    uint8_t btn_raw = (pins & _BV(BTN_BIT)) ? 0 : 1; /* low = pressed */
    if (lid_raw != lid_open_stable) {
        if (++lid_cnt >= DEBOUNCE_MS) { lid_open_stable = lid_raw; lid_cnt = 0; inputs_changed |= 1; }
    } else lid_cnt = 0;
    if (btn_raw != button_stable) {
        if (++btn_cnt >= DEBOUNCE_MS) { button_stable = btn_raw; btn_cnt = 0; inputs_changed |= 2; }
    } else btn_cnt = 0;
}

static uint16_t millis(void) {
    uint16_t t;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { t = ms_now; }
    return t;
}

/* ---- UART with interrupt-driven ring buffers -------------------------------------- */
#define RX_SIZE 128 /* powers of two */
#define TX_SIZE 128
static volatile uint8_t rx_buf[RX_SIZE], tx_buf[TX_SIZE];
static volatile uint8_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint16_t rx_errors;

ISR(USART_RX_vect) {
    uint8_t status = UCSR0A;
    uint8_t b = UDR0;
    if (status & (_BV(FE0) | _BV(DOR0))) rx_errors++;
    uint8_t next = (rx_head + 1) & (RX_SIZE - 1);
    if (next == rx_tail) { rx_errors++; return; } /* overflow: byte lost, CRC will catch it */
    rx_buf[rx_head] = b;
    rx_head = next;
}

ISR(USART_UDRE_vect) {
    if (tx_head == tx_tail) { UCSR0B &= ~_BV(UDRIE0); return; }
    UDR0 = tx_buf[tx_tail];
    tx_tail = (tx_tail + 1) & (TX_SIZE - 1);
}

static void uart_init(void) {
    UCSR0A = _BV(U2X0);
    uint16_t ubrr = (uint16_t)((F_CPU + 4UL * 115200UL) / (8UL * 115200UL) - 1); /* 16 -> 117647 baud, -2.1% */
    UBRR0H = (uint8_t)(ubrr >> 8);
    UBRR0L = (uint8_t)ubrr;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

static void uart_put(uint8_t b) {
    uint8_t next = (tx_head + 1) & (TX_SIZE - 1);
    while (next == tx_tail) { /* full: wait for the UDRE ISR to drain */
        wdt_reset();
    }
    tx_buf[tx_head] = b;
    tx_head = next;
    UCSR0B |= _BV(UDRIE0);
}

static int16_t uart_get(void) {
    if (rx_head == rx_tail) return -1;
    uint8_t b = rx_buf[rx_tail];
    rx_tail = (rx_tail + 1) & (RX_SIZE - 1);
    return b;
}

/* ---- framing ------------------------------------------------------------------------ */
static uint16_t crc16_ccitt(const uint8_t *p, uint8_t n) {
    uint16_t crc = 0xFFFF;
    while (n--) crc = _crc_xmodem_update(crc, *p++);
    return crc;
}

/* Encodes a frame into out (>= MAX_FRAME bytes), returns its length. */
static uint8_t frame_encode(uint8_t *out, uint8_t seq, uint8_t id, const uint8_t *payload, uint8_t len) {
    out[0] = SYNC;
    out[1] = len;
    out[2] = seq;
    out[3] = id;
    if (len) memcpy(out + 4, payload, len);
    uint16_t crc = crc16_ccitt(out + 1, (uint8_t)(3 + len));
    out[4 + len] = (uint8_t)(crc >> 8);
    out[5 + len] = (uint8_t)crc;
    return (uint8_t)(6 + len);
}

static void send_bytes(const uint8_t *p, uint8_t n) {
    while (n--) uart_put(*p++);
}

/* ---- light ------------------------------------------------------------------------- */
static uint8_t light_level;

static void light_set(uint8_t level) {
    light_level = level;
    if (level == 0) {
        TCCR0A &= ~_BV(COM0A1); /* fast PWM at OCR0A=0 still glitches: disconnect, drive low */
        PORTD &= ~_BV(LIGHT_BIT);
    } else {
        OCR0A = level;
        TCCR0A |= _BV(COM0A1);
    }
}

/* ---- stepper: Timer1 CTC at 2 x STEP_HZ, one edge per interrupt -------------------- */
enum { MODE_IDLE = 0, MODE_MOVE, MODE_HOME };
static volatile uint8_t mode;
static volatile int8_t dir;
static volatile uint16_t pos_steps;   /* 0..STEPS_PER_TURN-1, valid when homed */
static volatile uint16_t steps_left;  /* MOVE: steps to go; HOME: steps before giving up */
static volatile uint8_t homed;
static volatile uint8_t motion_result = 0xFF; /* set by the ISR when a motion ends */
static volatile uint8_t motion_kind;
static uint16_t target_tenths;

static void timer1_stop(void) { TCCR1B &= ~(_BV(CS11) | _BV(CS10) | _BV(CS12)); }

ISR(TIMER1_COMPA_vect) {
    if (PORTB & _BV(STEP_BIT)) { PORTB &= ~_BV(STEP_BIT); return; } /* falling edge */
    if (mode == MODE_HOME && !(PINC & _BV(HOME_BIT))) {
        pos_steps = 0;
        homed = 1;
        motion_kind = MODE_HOME; motion_result = E_OK; mode = MODE_IDLE; timer1_stop();
        return;
    }
    if (steps_left == 0) {
        motion_kind = mode; motion_result = (mode == MODE_HOME) ? E_STALL : E_OK;
        mode = MODE_IDLE; timer1_stop();
        return;
    }
    PORTB |= _BV(STEP_BIT);
    steps_left--;
    if (dir > 0) pos_steps = (pos_steps + 1 == STEPS_PER_TURN) ? 0 : pos_steps + 1;
    else pos_steps = pos_steps ? pos_steps - 1 : STEPS_PER_TURN - 1;
}

static void motion_start(uint8_t m, int8_t d, uint16_t steps) {
    if (d > 0) PORTB |= _BV(DIR_BIT); else PORTB &= ~_BV(DIR_BIT);
    PORTB &= ~_BV(EN_BIT); /* driver on; stays on to hold the table */
    PORTB |= _BV(LED_BIT);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        dir = d; steps_left = steps; mode = m; motion_result = 0xFF;
        TCNT1 = 0;
        TCCR1B = _BV(WGM12) | _BV(CS11); /* CTC, clk/8 = 2 MHz */
    }
}

/* Stops any motion; the result is reported through motion_result like a normal end. */
static void motion_abort(uint8_t result) {
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        if (mode != MODE_IDLE) {
            timer1_stop();
            PORTB &= ~_BV(STEP_BIT);
            motion_kind = mode; motion_result = result; mode = MODE_IDLE;
            if (motion_kind == MODE_HOME) homed = 0;
        }
    }
}

/* ---- events: queue + one outstanding, resent until EVENT_ACK ---------------------- */
typedef struct { uint8_t len; uint8_t data[4]; } event_t;
static event_t ev_queue[EVENT_QUEUE];
static uint8_t ev_head, ev_count;
static uint8_t ev_seq;
static uint8_t ev_outstanding, ev_tries;
static uint16_t ev_sent_ms;
static event_t ev_cur;

static void event_push(uint8_t type, const uint8_t *data, uint8_t n) {
    if (ev_count == EVENT_QUEUE) { ev_head = (ev_head + 1) % EVENT_QUEUE; ev_count--; } /* drop oldest */
    event_t *e = &ev_queue[(ev_head + ev_count) % EVENT_QUEUE];
    e->data[0] = type;
    if (n) memcpy(e->data + 1, data, n);
    e->len = (uint8_t)(1 + n);
    ev_count++;
}

static void event_send_current(void) {
    uint8_t f[MAX_FRAME];
    send_bytes(f, frame_encode(f, ev_seq, MSG_EVENT, ev_cur.data, ev_cur.len));
    ev_sent_ms = millis();
    ev_tries++;
}

static void events_pump(void) {
    if (ev_outstanding && (uint16_t)(millis() - ev_sent_ms) >= EVENT_RETRY_MS) {
        if (ev_tries >= EVENT_MAX_TRIES) ev_outstanding = 0; /* host not listening: give up */
        else event_send_current();
    }
    if (!ev_outstanding && ev_count) {
        ev_cur = ev_queue[ev_head];
        ev_head = (ev_head + 1) % EVENT_QUEUE;
        ev_count--;
        ev_seq++;
        ev_outstanding = 1;
        ev_tries = 0;
        event_send_current();
    }
}

/* ---- command dispatch ------------------------------------------------------------- */
static int16_t last_seq = -1;
static uint8_t last_id;
static uint8_t last_reply[MAX_FRAME], last_reply_len;

static uint16_t angle_tenths(void) {
    uint16_t p;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { p = pos_steps; }
    return homed ? p / STEPS_PER_TENTH : 0;
}

static uint8_t motion_refusal(void) {
    if (mode != MODE_IDLE) return E_BUSY;
    if (lid_open_stable) return E_LID_OPEN;
    return E_OK;
}

/* Runs one command; writes the reply payload to out, returns E_OK or a NAK code. */
static uint8_t execute(uint8_t id, const uint8_t *p, uint8_t len, uint8_t *out, uint8_t *out_len) {
    *out_len = 0;
    switch (id) {
    case CMD_IDENTIFY: {
        if (len) return E_BAD_LENGTH;
        uint32_t serial = eeprom_read_dword((const uint32_t *)0);
        if (serial == 0xFFFFFFFFUL) serial = 0; /* unprogrammed EEPROM */
        out[0] = PROTO_VERSION; out[1] = FW_MAJOR; out[2] = FW_MINOR; out[3] = FW_PATCH;
        memcpy(out + 4, &serial, 4); /* AVR is little-endian, as the protocol */
        memcpy(out + 8, MODEL, sizeof(MODEL) - 1);
        *out_len = 8 + sizeof(MODEL) - 1;
        return E_OK;
    }
    case CMD_GET_STATUS: {
        if (len) return E_BAD_LENGTH;
        uint8_t m = mode;
        uint16_t a = angle_tenths(), t = homed ? (m == MODE_MOVE ? target_tenths : a) : 0, e;
        ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { e = rx_errors; }
        out[0] = (homed ? 1 : 0) | (m == MODE_MOVE ? 2 : 0) | (lid_open_stable ? 4 : 0) |
                 (button_stable ? 8 : 0) | (m == MODE_HOME ? 16 : 0);
        out[1] = light_level;
        out[2] = (uint8_t)a; out[3] = (uint8_t)(a >> 8);
        out[4] = (uint8_t)t; out[5] = (uint8_t)(t >> 8);
        out[6] = (uint8_t)e; out[7] = (uint8_t)(e >> 8);
        *out_len = 8;
        return E_OK;
    }
    case CMD_SET_LIGHT:
        if (len != 1) return E_BAD_LENGTH;
        light_set(p[0]);
        return E_OK;
    case CMD_ROTATE_TO: {
        if (len != 2) return E_BAD_LENGTH;
        uint16_t target = (uint16_t)(p[0] | (p[1] << 8));
        if (target >= 3600) return E_BAD_ARG;
        uint8_t r = motion_refusal();
        if (r) return r;
        if (!homed) return E_NOT_HOMED;
        int32_t delta = (int32_t)target * STEPS_PER_TENTH - (int32_t)pos_steps;
        if (delta > (int32_t)STEPS_PER_TURN / 2) delta -= STEPS_PER_TURN;
        if (delta <= -(int32_t)STEPS_PER_TURN / 2) delta += STEPS_PER_TURN;
        target_tenths = target;
        if (delta == 0) { motion_kind = MODE_MOVE; motion_result = E_OK; }
        else motion_start(MODE_MOVE, delta > 0 ? 1 : -1, (uint16_t)(delta > 0 ? delta : -delta));
        return E_OK;
    }
    case CMD_HOME: {
        if (len) return E_BAD_LENGTH;
        uint8_t r = motion_refusal();
        if (r) return r;
        homed = 0;
        motion_start(MODE_HOME, -1, (uint16_t)HOME_MAX_STEPS);
        return E_OK;
    }
    case CMD_STOP:
        if (len) return E_BAD_LENGTH;
        motion_abort(E_STOPPED);
        return E_OK;
    case CMD_ECHO:
        memcpy(out, p, len);
        *out_len = len;
        return E_OK;
    default:
        return E_UNKNOWN_CMD;
    }
}

static void send_nak(uint8_t seq, uint8_t code) {
    uint8_t f[8];
    send_bytes(f, frame_encode(f, seq, MSG_NAK, &code, 1));
}

static void handle_frame(uint8_t seq, uint8_t id, const uint8_t *p, uint8_t len) {
    if (id == CMD_EVENT_ACK) {
        if (ev_outstanding && seq == ev_seq) ev_outstanding = 0;
        return;
    }
    if ((int16_t)seq == last_seq && id == last_id) { /* retransmission: reply again, do not re-run */
        send_bytes(last_reply, last_reply_len);
        return;
    }
    uint8_t out[MAX_PAYLOAD], out_len;
    uint8_t err = execute(id, p, len, out, &out_len);
    if (err) {
        out[0] = err;
        last_reply_len = frame_encode(last_reply, seq, MSG_NAK, out, 1);
    } else {
        last_reply_len = frame_encode(last_reply, seq, MSG_ACK, out, out_len);
    }
    last_seq = seq;
    last_id = id;
    send_bytes(last_reply, last_reply_len);
}

/* ---- receive state machine ------------------------------------------------------- */
enum { RX_HUNT, RX_LEN, RX_BODY };
static uint8_t rx_state, rx_len, rx_idx;
static uint8_t frame_buf[MAX_FRAME]; /* LEN SEQ ID PAYLOAD CRChi CRClo */
static uint16_t rx_last_ms;

static void rx_byte(uint8_t b) {
    rx_last_ms = millis();
    switch (rx_state) {
    case RX_HUNT:
        if (b == SYNC) rx_state = RX_LEN;
        break;
    case RX_LEN:
        if (b > MAX_PAYLOAD) { rx_state = (b == SYNC) ? RX_LEN : RX_HUNT; break; }
        rx_len = b; frame_buf[0] = b; rx_idx = 1; rx_state = RX_BODY;
        break;
    case RX_BODY:
        frame_buf[rx_idx++] = b;
        if (rx_idx == (uint8_t)(rx_len + 5)) {
            rx_state = RX_HUNT;
            uint16_t crc = crc16_ccitt(frame_buf, (uint8_t)(3 + rx_len));
            uint16_t got = (uint16_t)((frame_buf[3 + rx_len] << 8) | frame_buf[4 + rx_len]);
            if (crc != got) {
                ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { rx_errors++; }
                send_nak(frame_buf[1], E_BAD_CRC);
            } else {
                handle_frame(frame_buf[1], frame_buf[2], frame_buf + 3, rx_len);
            }
        }
        break;
    }
}

/* ---- main ----------------------------------------------------------------------- */
static void poll_motion_and_inputs(void) {
    uint8_t result, kind, changed;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        result = motion_result; kind = motion_kind; motion_result = 0xFF;
        changed = inputs_changed; inputs_changed = 0;
    }
    if (changed & 1) {
        if (lid_open_stable) {
            motion_abort(E_LID_OPEN); /* hands in the box: stop the table now */
            ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
                if (motion_result != 0xFF) { result = motion_result; kind = motion_kind; motion_result = 0xFF; }
            }
        }
    }
    if (result != 0xFF) {
        PORTB &= ~_BV(LED_BIT);
        if (kind == MODE_HOME) {
            event_push(EV_HOME_DONE, &result, 1);
        } else {
            uint16_t a = angle_tenths();
            uint8_t d[3] = {(uint8_t)a, (uint8_t)(a >> 8), result};
            event_push(EV_MOVE_DONE, d, 3);
        }
    }
    if (changed & 1) event_push(lid_open_stable ? EV_LID_OPENED : EV_LID_CLOSED, 0, 0);
    if ((changed & 2) && button_stable) event_push(EV_BUTTON, 0, 0);
}

int main(void) {
    uint8_t cause = MCUSR;
    MCUSR = 0;
    wdt_disable();

    DDRB = _BV(STEP_BIT) | _BV(DIR_BIT) | _BV(EN_BIT) | _BV(LED_BIT);
    PORTB = _BV(EN_BIT); /* driver disabled until the first motion */
    DDRD |= _BV(LIGHT_BIT);
    PORTD &= ~_BV(LIGHT_BIT);
    DDRC &= ~(_BV(HOME_BIT) | _BV(LID_BIT) | _BV(BTN_BIT));
    PORTC |= _BV(HOME_BIT) | _BV(LID_BIT) | _BV(BTN_BIT); /* pull-ups */

    TCCR0A = _BV(WGM01) | _BV(WGM00); /* fast PWM, ~977 Hz */
    TCCR0B = _BV(CS01) | _BV(CS00);
    light_set(0);

    TCCR2A = _BV(WGM21); /* CTC */
    OCR2A = 249;         /* 16 MHz / 64 / 250 = 1 kHz */
    TCCR2B = _BV(CS22);
    TIMSK2 = _BV(OCIE2A);

    TCCR1A = 0;
    OCR1A = (uint16_t)(F_CPU / 8 / (2 * STEP_HZ) - 1);
    TIMSK1 = _BV(OCIE1A);

    /* start with the real switch states so boot does not raise spurious events */
    lid_open_stable = (PINC & _BV(LID_BIT)) ? 1 : 0;
    button_stable = (PINC & _BV(BTN_BIT)) ? 0 : 1;

    uart_init();
    wdt_enable(WDTO_500MS);
    sei();

    uint8_t c = cause ? cause : 1;
    event_push(EV_BOOT, &c, 1);

    for (;;) {
        wdt_reset();
        int16_t b;
        while ((b = uart_get()) >= 0) rx_byte((uint8_t)b);
        if (rx_state != RX_HUNT && (uint16_t)(millis() - rx_last_ms) > PARTIAL_FRAME_MS) rx_state = RX_HUNT;
        poll_motion_and_inputs();
        events_pump();
        /* idle until the next interrupt (1 kHz tick at the latest) */
        set_sleep_mode(SLEEP_MODE_IDLE);
        cli();
        if (rx_head == rx_tail) {
            sleep_enable();
            sei();
            sleep_cpu();
            sleep_disable();
        }
        sei();
    }
}
