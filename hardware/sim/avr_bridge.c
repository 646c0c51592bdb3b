/*
 * Runs the rig firmware (.elf) in simavr as an ATmega328P @ 16 MHz and bridges its USART0
 * to a pseudo-terminal, so the host driver talks to the real firmware through a real tty.
 * It also models the turntable: it counts STEP pulses (with DIR) and closes the home switch
 * when the table passes 0 degrees; lid switch and start button are driven from stdin.
 *
 *   avr_bridge FIRMWARE.elf LINK_PATH [START_TENTHS]
 *
 * Prints "PTY <slave path>" on stdout once ready (simavr prints other lines too); LINK_PATH is a symlink to it.
 * stdin commands, one per line: "button", "lid open", "lid close". Exits on stdin EOF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "avr_ioport.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_irq.h"

#define STEPS_PER_TURN 28800
#define HOME_WINDOW 8 /* steps the home switch stays closed around 0 */

static avr_t *avr;
static int master_fd = -1;
static avr_irq_t *uart_in, *home_irq, *lid_irq, *btn_irq;
static volatile int xon = 1;
static unsigned char inbuf[4096];
static size_t in_len, in_pos;
static long table_pos;
static int step_dir, step_level;
static int home_closed = -1;
static avr_cycle_count_t button_release_at;

static uint8_t portc_ext = 0x07; /* external levels of PC0..PC2 (1 = open switch) */

/* Drive an input pin from outside. The "external" ioctl makes the level survive the firmware
 * writing PORTC (its pull-ups), which would otherwise overwrite a one-off irq value. */
static void drive_pc(int bit, avr_irq_t *irq, int level) {
    portc_ext = (uint8_t)(level ? (portc_ext | (1 << bit)) : (portc_ext & ~(1 << bit)));
    avr_ioport_external_t e = {.name = 'C', .mask = 0x07, .value = portc_ext};
    avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('C'), &e);
    avr_raise_irq(irq, (uint32_t)level);
}

static void feed_uart(void) {
    while (xon && in_pos < in_len) avr_raise_irq(uart_in, inbuf[in_pos++]);
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    xon = 1;
    feed_uart();
}

static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    xon = 0;
}

static void on_uart_out(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    unsigned char b = (unsigned char)value;
    if (master_fd >= 0 && write(master_fd, &b, 1) < 0 && errno != EAGAIN) perror("pty write");
}

static void update_home_switch(void) {
    int closed = table_pos < HOME_WINDOW / 2 || table_pos >= STEPS_PER_TURN - HOME_WINDOW / 2;
    if (closed != home_closed) {
        home_closed = closed;
        drive_pc(0, home_irq, closed ? 0 : 1); /* switch to GND */
    }
}

static void on_dir(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    step_dir = value ? 1 : -1;
}

static void on_step(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    if (value && !step_level) {
        table_pos = (table_pos + step_dir + STEPS_PER_TURN) % STEPS_PER_TURN;
        update_home_switch();
    }
    step_level = value ? 1 : 0;
}

static void handle_command(const char *line) {
    if (!strncmp(line, "button", 6)) {
        drive_pc(2, btn_irq, 0);
        button_release_at = avr->cycle + avr->frequency / 10; /* held 100 ms */
    } else if (!strncmp(line, "lid open", 8)) {
        drive_pc(1, lid_irq, 1);
    } else if (!strncmp(line, "lid close", 9)) {
        drive_pc(1, lid_irq, 0);
    } else {
        fprintf(stderr, "avr_bridge: unknown command: %s\n", line);
    }
}

static int poll_stdin(void) {
    static char line[128];
    static size_t len;
    char c;
    for (;;) {
        ssize_t n = read(0, &c, 1);
        if (n == 0) return -1; /* EOF: our parent is gone */
        if (n < 0) return 0;
        if (c == '\n') {
            line[len] = 0;
            handle_command(line);
            len = 0;
        } else if (len < sizeof(line) - 1) {
            line[len++] = c;
        }
    }
}

static void poll_pty(void) {
    if (in_pos < in_len) return; /* still feeding the previous chunk */
    ssize_t n = read(master_fd, inbuf, sizeof(inbuf));
    if (n > 0) {
        in_len = (size_t)n;
        in_pos = 0;
        feed_uart();
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s FIRMWARE.elf LINK_PATH [START_TENTHS]\n", argv[0]);
        return 2;
    }
    table_pos = argc > 3 ? (atol(argv[3]) * 8) % STEPS_PER_TURN : 1234L * 8;
    signal(SIGPIPE, SIG_IGN);

    elf_firmware_t fw;
    memset(&fw, 0, sizeof(fw));
    if (elf_read_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "avr_bridge: cannot read %s\n", argv[1]);
        return 1;
    }
    strcpy(fw.mmcu, "atmega328p");
    fw.frequency = 16000000;
    avr = avr_make_mcu_by_name(fw.mmcu);
    if (!avr) return 1;
    avr_init(avr);
    avr_load_firmware(avr, &fw);

    int slave_fd;
    char slave_name[256];
    if (openpty(&master_fd, &slave_fd, slave_name, NULL, NULL) < 0) {
        perror("openpty");
        return 1;
    }
    struct termios t;
    tcgetattr(slave_fd, &t);
    cfmakeraw(&t);
    tcsetattr(slave_fd, TCSANOW, &t);
    fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.new", argv[2]);
    unlink(tmp);
    if (symlink(slave_name, tmp) < 0 || rename(tmp, argv[2]) < 0) {
        perror("symlink");
        return 1;
    }

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~AVR_UART_FLAG_STDIO;
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 1), on_step, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 0), on_dir, NULL);
    home_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('C'), 0);
    lid_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('C'), 1);
    btn_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('C'), 2);
    step_dir = -1;
    update_home_switch();
    drive_pc(1, lid_irq, 0); /* lid closed */
    drive_pc(2, btn_irq, 1); /* button released */

    printf("PTY %s\n", slave_name);
    fflush(stdout);

    avr_cycle_count_t next_poll = 0;
    for (;;) {
        int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "avr_bridge: firmware stopped (state %d)\n", state);
            return 1;
        }
        if (avr->cycle >= next_poll) {
            next_poll = avr->cycle + 1600; /* every 100 us of AVR time */
            poll_pty();
            if (poll_stdin() < 0) break;
            if (button_release_at && avr->cycle >= button_release_at) {
                drive_pc(2, btn_irq, 1);
                button_release_at = 0;
            }
        }
    }
    unlink(argv[2]);
    close(slave_fd);
    return 0;
}
